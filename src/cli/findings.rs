//! `leakhound findings`: read the state store without scanning, and record
//! triage decisions that later runs honour.

use std::{
    io::{self, Write},
    process::ExitCode,
};

use super::{FindingStatus, FindingsCommand};
use crate::{report::Format, store::Store};

/// Runs `leakhound findings …`.
///
/// # Errors
/// An unreadable store, an unknown fingerprint, or a write error.
pub fn run(cmd: &FindingsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        FindingsCommand::List {
            state,
            status,
            format,
        } => {
            if !state.exists() {
                anyhow::bail!("state store {} does not exist", state.display());
            }
            let store = Store::open(state)?;
            let status = status.map(|s| match s {
                FindingStatus::New => "new",
                FindingStatus::Open => "open",
                FindingStatus::Resolved => "resolved",
            });
            let findings = store.list(status)?;
            let mut out = io::stdout().lock();
            match format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, &findings)?;
                    writeln!(out)?;
                }
                Format::Jsonl => {
                    for f in &findings {
                        serde_json::to_writer(&mut out, f)?;
                        writeln!(out)?;
                    }
                }
                Format::Human => {
                    for f in &findings {
                        writeln!(
                            out,
                            "{:<8} {}  {:<28} {:<16} first {} last {}  {}{}{}",
                            f.status,
                            f.fingerprint,
                            f.detector,
                            f.secret,
                            f.first_seen_run,
                            f.last_seen_run,
                            f.verification,
                            f.triage
                                .as_deref()
                                .map(|t| format!("  triaged {t}"))
                                .unwrap_or_default(),
                            if f.repos.is_empty() {
                                String::new()
                            } else {
                                format!("  in {}", f.repos.join(", "))
                            },
                        )?;
                    }
                    writeln!(out, "{} findings", findings.len())?;
                }
                other => anyhow::bail!("findings list writes human, json or jsonl, not {other:?}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        FindingsCommand::Triage {
            fingerprint,
            decision,
            note,
            state,
        } => {
            if !state.exists() {
                anyhow::bail!("state store {} does not exist", state.display());
            }
            Store::open(state)?.triage(fingerprint, *decision, note)?;
            eprintln!("leakhound: {fingerprint} triaged as {}", decision.as_str());
            Ok(ExitCode::SUCCESS)
        }
    }
}
