//! Live verification: does a leaked credential still work?
//!
//! Runs after dedup, so each unique (detector, secret) is checked once. A
//! detector's declarative `verify` block says what to send and how to read
//! the answer; this room sends it under a fixed safety policy:
//!
//! - a secret goes only to its verifier's fixed host (or the base URL a test
//!   or operator gives with `--verify-endpoint ID=URL`);
//! - redirects are never followed; TLS is verified;
//! - answers are read up to [`MAX_BODY`] bytes;
//! - 429 and 5xx are retried with backoff, honouring `Retry-After`;
//! - errors and details never contain the secret.

mod http;

use std::{collections::HashMap, time::Duration};

use rayon::prelude::*;

use crate::{
    detector::{DetectorSet, VerifySpec},
    finding::{Finding, Verification, VerificationStatus},
};

pub use http::{HttpVerifier, MAX_BODY};

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Base URL overrides by detector id (`github-pat-classic` →
    /// `http://127.0.0.1:8080`): scheme, host and port of the declared URL
    /// are replaced, its path and query kept.
    pub endpoints: HashMap<String, String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Attempts per request on 429 / 5xx.
    pub attempts: u32,
    /// Requests in flight at once.
    pub concurrency: usize,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            endpoints: HashMap::new(),
            timeout: Duration::from_secs(10),
            attempts: 3,
            concurrency: 8,
        }
    }
}

/// What `--verify-dry-run` reports: which host would be contacted for how
/// many secrets of a detector. No request is sent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Planned {
    /// The detector.
    pub detector: String,
    /// The host its verifier contacts.
    pub host: String,
    /// Unique secrets it would check.
    pub count: usize,
}

/// The checks [`verify`] would make, without making them.
pub fn plan(findings: &[Finding], detectors: &DetectorSet, opts: &VerifyOptions) -> Vec<Planned> {
    let mut counts: HashMap<(String, String), usize> = HashMap::new();
    for f in findings {
        if let Some(spec) = spec_of(detectors, f) {
            let url = http::target_url(spec, f.detector.as_str(), opts);
            let host = url
                .as_deref()
                .and_then(|u| reqwest::Url::parse(u).ok())
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| "(code verifier)".into());
            *counts
                .entry((f.detector.as_str().to_string(), host))
                .or_default() += 1;
        }
    }
    let mut out: Vec<Planned> = counts
        .into_iter()
        .map(|((detector, host), count)| Planned {
            detector,
            host,
            count,
        })
        .collect();
    out.sort();
    out
}

/// Verifies every finding whose detector has a declarative verifier, in
/// parallel, and records the outcome on the finding. Findings of detectors
/// without one stay `not_checked`.
///
/// # Errors
/// Only when the HTTP client cannot be built.
pub fn verify(
    findings: &mut [Finding],
    detectors: &DetectorSet,
    opts: &VerifyOptions,
) -> Result<(), String> {
    let verifier = HttpVerifier::new(opts)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.concurrency.max(1))
        .build()
        .map_err(|e| format!("cannot start verification threads: {e}"))?;
    pool.install(|| {
        findings.par_iter_mut().for_each(|f| {
            let Some(spec) = spec_of(detectors, f) else {
                return;
            };
            f.verification = if spec.code.is_some() {
                Verification {
                    status: VerificationStatus::NotChecked,
                    detail: Some("code verifier not available in this build".into()),
                }
            } else {
                verifier.check(spec, f, opts)
            };
        });
    });
    Ok(())
}

fn spec_of<'a>(detectors: &'a DetectorSet, f: &Finding) -> Option<&'a VerifySpec> {
    let i = detectors.index_of(f.detector.as_str())?;
    detectors.as_slice()[i].verify.as_ref()
}
