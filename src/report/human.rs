//! `--format human`: one block per secret, most confident first within file order.

use std::io::{self, Write};

use termcolor::{Ansi, Color, ColorSpec, NoColor, WriteColor};

use crate::{
    detector::Confidence,
    finding::{Finding, Location, VerificationStatus},
    scan::ScanStats,
};

/// Locations shown per finding before "+N more".
const SHOWN_LOCATIONS: usize = 5;
/// Characters of a secret shown before it is elided (JSON always has it whole).
const SHOWN_SECRET: usize = 120;
/// Characters of a snippet shown.
const SHOWN_SNIPPET: usize = 160;

/// `s` cut to `max` characters, saying how much was left out.
fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max).collect();
    format!("{head}… ({n} chars)")
}

/// Writes the human report, with ANSI colours when `color`.
///
/// # Errors
/// I/O errors of `out`.
pub fn write_human(
    findings: &[Finding],
    stats: &ScanStats,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    if color {
        render(findings, stats, &mut Ansi::new(out))
    } else {
        render(findings, stats, &mut NoColor::new(out))
    }
}

fn render(findings: &[Finding], stats: &ScanStats, w: &mut dyn WriteColor) -> io::Result<()> {
    // Suppressed findings are counted in the summary, not shown.
    // Secrets verified live first: they are what needs a responder now.
    let mut shown: Vec<&Finding> = findings.iter().filter(|f| f.suppressed.is_none()).collect();
    shown.sort_by_key(|f| f.verification.status != VerificationStatus::Valid);
    for f in shown {
        if f.verification.status == VerificationStatus::Valid {
            w.set_color(
                ColorSpec::new()
                    .set_fg(Some(Color::White))
                    .set_bg(Some(Color::Red))
                    .set_bold(true),
            )?;
            write!(w, " LIVE ")?;
            w.reset()?;
            write!(w, " ")?;
        }
        let sev = match f.confidence {
            Confidence::High => Color::Red,
            Confidence::Medium => Color::Yellow,
            Confidence::Low => Color::Cyan,
        };
        w.set_color(ColorSpec::new().set_fg(Some(sev)).set_bold(true))?;
        write!(w, "● {}", f.name)?;
        w.reset()?;
        writeln!(w, "  [{}] {}", f.confidence, f.detector)?;
        label(w, "secret")?;
        writeln!(
            w,
            "{}",
            shorten(&f.secret.replace('\n', "\\n"), SHOWN_SECRET)
        )?;
        if f.verification.status != VerificationStatus::NotChecked {
            label(w, "verified")?;
            let status = f.verification.status.as_str();
            match &f.verification.detail {
                Some(d) => writeln!(w, "{status} ({d})")?,
                None => writeln!(w, "{status}")?,
            }
        }
        for (name, value) in &f.parts {
            label(w, name)?;
            writeln!(w, "{value}")?;
        }
        let linked = f
            .locations
            .iter()
            .any(|l| matches!(l, Location::Postman(p) if p.via.is_some()));
        for loc in f.locations.iter().take(SHOWN_LOCATIONS) {
            match loc {
                Location::Postman(p) => {
                    label(
                        w,
                        match (&p.via, linked) {
                            (Some(_), _) => "used by",
                            (None, true) => "defined",
                            (None, false) => "at",
                        },
                    )?;
                    w.set_color(ColorSpec::new().set_fg(Some(Color::Magenta)))?;
                    write!(w, "{}", p.path)?;
                    w.reset()?;
                    writeln!(w, " {}", p.json_pointer)?;
                    write!(w, "            {}", p.field)?;
                    if let Some(name) = &p.name {
                        write!(w, " `{name}`")?;
                    }
                    if let Some(request) = &p.request {
                        write!(w, " in request \"{request}\"")?;
                    }
                    if let Some(var) = &p.via {
                        write!(w, " via {{{{{var}}}}}")?;
                    }
                    writeln!(w)?;
                    writeln!(
                        w,
                        "            {}",
                        shorten(p.snippet.trim(), SHOWN_SNIPPET)
                    )?;
                }
                Location::File(l) => {
                    label(w, "at")?;
                    w.set_color(ColorSpec::new().set_fg(Some(Color::Magenta)))?;
                    write!(w, "{}", l.path)?;
                    w.reset()?;
                    writeln!(w, ":{}:{}", l.line, l.column)?;
                    writeln!(
                        w,
                        "            {}",
                        shorten(l.snippet.trim(), SHOWN_SNIPPET)
                    )?;
                }
                Location::Git(g) => {
                    label(w, "at")?;
                    w.set_color(ColorSpec::new().set_fg(Some(Color::Magenta)))?;
                    write!(
                        w,
                        "{}",
                        if g.path.is_empty() {
                            "(unreachable blob)"
                        } else {
                            &g.path
                        }
                    )?;
                    w.reset()?;
                    write!(w, ":{}:{}", g.line, g.column)?;
                    match (&g.commit, g.staged) {
                        (Some(c), _) => write!(
                            w,
                            "  commit {} {} <{}> {}",
                            &c[..c.len().min(12)],
                            g.author.as_deref().unwrap_or(""),
                            g.email.as_deref().unwrap_or(""),
                            g.date.as_deref().unwrap_or("")
                        )?,
                        (None, true) => write!(w, "  staged")?,
                        (None, false) => write!(
                            w,
                            "  blob {} (no ref reaches it)",
                            &g.blob[..g.blob.len().min(12)]
                        )?,
                    }
                    w.set_color(ColorSpec::new().set_fg(Some(if g.in_head {
                        Color::Red
                    } else {
                        Color::Green
                    })))?;
                    writeln!(
                        w,
                        "  {}",
                        if g.in_head {
                            "[still in HEAD]"
                        } else {
                            "[not in HEAD]"
                        }
                    )?;
                    w.reset()?;
                    writeln!(
                        w,
                        "            {}",
                        shorten(g.snippet.trim(), SHOWN_SNIPPET)
                    )?;
                }
            }
        }
        if f.locations.len() > SHOWN_LOCATIONS {
            writeln!(
                w,
                "            (+{} more locations)",
                f.locations.len() - SHOWN_LOCATIONS
            )?;
        }
        writeln!(w)?;
    }
    let locations: usize = findings.iter().map(|f| f.locations.len()).sum();
    w.set_color(ColorSpec::new().set_bold(true))?;
    write!(
        w,
        "{} secret{} ({} location{})",
        findings.len(),
        plural(findings.len()),
        locations,
        plural(locations)
    )?;
    w.reset()?;
    if stats.suppressed > 0 {
        write!(w, ", {} suppressed", stats.suppressed)?;
    }
    writeln!(
        w,
        " in {} blob{}, {} in {} ms; {} skipped",
        stats.blobs_scanned,
        plural(stats.blobs_scanned as usize),
        super::human_bytes(stats.bytes_scanned),
        stats.duration_ms,
        stats.skipped.len()
    )
}

fn label(w: &mut dyn WriteColor, name: &str) -> io::Result<()> {
    w.set_color(ColorSpec::new().set_dimmed(true))?;
    write!(w, "  {name:<9} ")?;
    w.reset()
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
