//! Live verification: does a leaked credential still work?
//!
//! Runs after dedup, so each unique (detector, secret) is checked once. A
//! detector's declarative `verify` block says what to send and how to read
//! the answer; what a declaration cannot say is a code verifier (`aws-sts`,
//! `postgres`, `redis`). Every check runs under one safety policy:
//!
//! - a secret goes only to its verifier's fixed host (or the base URL a test
//!   or operator gives with `--verify-endpoint ID=URL`);
//! - a host taken from the scanned data (webhook, database URI, tenant
//!   subdomain) is resolved first and refused when any address it resolves
//!   to is private, loopback, link-local or a metadata service, unless
//!   `--verify-allow-internal`; the request then goes to the checked address;
//! - redirects are never followed; TLS is verified;
//! - answers are read up to [`MAX_BODY`] bytes;
//! - at most `per_host` requests in flight per host, and a global start rate;
//! - 429 and 5xx are retried with backoff, honouring `Retry-After`;
//! - database URIs are tried only with `--verify-db`;
//! - errors and details never contain the secret.

mod aws;
mod db;
mod guard;
mod http;
mod throttle;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock, PoisonError},
    time::Duration,
};

use rayon::prelude::*;

use crate::{
    detector::{DetectorSet, VerifySpec},
    finding::{redact, Finding, Verification, VerificationStatus},
};

pub use aws::{sign_headers as aws_sign_headers, STS_URL};
pub use guard::is_internal;
pub use http::MAX_BODY;

use throttle::Throttle;

/// The verifiers written in code, by the name a detector's `code` gives.
pub const CODE_VERIFIERS: &[&str] = &["aws-sts", "postgres", "redis"];

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
    /// Requests in flight at once, across hosts.
    pub concurrency: usize,
    /// Requests in flight at once to one host.
    pub per_host: usize,
    /// Request starts per second across all hosts (0: unlimited).
    pub rate: f64,
    /// Let hosts taken from scanned data reach internal addresses.
    pub allow_internal: bool,
    /// Try database URIs with a real connection.
    pub verify_db: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            endpoints: HashMap::new(),
            timeout: Duration::from_secs(10),
            attempts: 3,
            concurrency: 8,
            per_host: 4,
            rate: 20.0,
            allow_internal: false,
            verify_db: false,
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

/// Where a check goes, or why it goes nowhere.
enum Route {
    Http(http::Target),
    Aws(http::Target),
    Db(db::Protocol, String),
    Skip(Verification),
}

fn route(spec: &VerifySpec, f: &Finding, opts: &VerifyOptions) -> Route {
    let id = f.detector.as_str();
    let skip = |status, detail: String| {
        Route::Skip(Verification {
            status,
            detail: Some(detail),
        })
    };
    match spec.code.as_deref() {
        None => match http::target(spec.url.as_deref().unwrap_or(""), f, id, opts) {
            Ok(t) => Route::Http(t),
            Err(e) => skip(VerificationStatus::NotChecked, e),
        },
        Some("aws-sts") => match http::target(STS_URL, f, id, opts) {
            Ok(t) => Route::Aws(t),
            Err(e) => skip(VerificationStatus::Error, e),
        },
        Some(name @ ("postgres" | "redis")) => {
            if !opts.verify_db {
                return skip(
                    VerificationStatus::NotChecked,
                    "database URIs are tried only with --verify-db".into(),
                );
            }
            let protocol = if name == "postgres" {
                db::Protocol::Postgres
            } else {
                db::Protocol::Redis
            };
            let host = f.parts.get("host").cloned().unwrap_or_default();
            Route::Db(protocol, host)
        }
        Some(other) => skip(
            VerificationStatus::NotChecked,
            format!("no code verifier named `{other}`"),
        ),
    }
}

/// The checks [`verify`] would make, without making them.
pub fn plan(findings: &[Finding], detectors: &DetectorSet, opts: &VerifyOptions) -> Vec<Planned> {
    let mut counts: HashMap<(String, String), usize> = HashMap::new();
    for f in findings {
        let Some(spec) = spec_of(detectors, f) else {
            continue;
        };
        let host = match route(spec, f, opts) {
            Route::Http(t) | Route::Aws(t) => t.host_key(),
            Route::Db(_, host) => host,
            Route::Skip(_) => continue,
        };
        *counts
            .entry((f.detector.as_str().to_string(), host))
            .or_default() += 1;
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

/// Verifies every finding whose detector has a verifier, in parallel under
/// the safety policy, and records the outcome on the finding. Findings of
/// detectors without one stay `not_checked`. Each unique (detector, secret,
/// parts) is sent once, however many findings carry it.
///
/// # Errors
/// Only when the HTTP client or the worker threads cannot be built.
pub fn verify(
    findings: &mut [Finding],
    detectors: &DetectorSet,
    opts: &VerifyOptions,
) -> Result<(), String> {
    let client = crate::http::client(opts.timeout)
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let throttle = Throttle::new(opts.per_host, opts.rate);
    let cache: Mutex<HashMap<String, Arc<OnceLock<Verification>>>> = Mutex::default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.concurrency.max(1))
        .build()
        .map_err(|e| format!("cannot start verification threads: {e}"))?;
    pool.install(|| {
        findings.par_iter_mut().for_each(|f| {
            let Some(spec) = spec_of(detectors, f) else {
                return;
            };
            // Already known (a recent result from the state store).
            if f.verification.status != VerificationStatus::NotChecked {
                return;
            }
            let key = format!("{}\0{}\0{:?}", f.detector.as_str(), f.secret, f.parts);
            let cell = cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(key)
                .or_default()
                .clone();
            let result = cell.get_or_init(|| check(&client, &throttle, spec, f, opts));
            f.verification = scrub(result.clone(), f);
        });
    });
    Ok(())
}

/// One check, throttled by host.
fn check(
    client: &reqwest::blocking::Client,
    throttle: &Throttle,
    spec: &VerifySpec,
    f: &Finding,
    opts: &VerifyOptions,
) -> Verification {
    match route(spec, f, opts) {
        Route::Skip(v) => v,
        Route::Http(target) => {
            let _slot = throttle.acquire(&target.host_key());
            if !target.host_from_data {
                return http::check(client, spec, &target, f, opts);
            }
            match pinned_client(&target, opts) {
                Ok(pinned) => http::check(&pinned, spec, &target, f, opts),
                Err(e) => Verification {
                    status: VerificationStatus::Error,
                    detail: Some(e),
                },
            }
        }
        Route::Aws(target) => {
            let _slot = throttle.acquire(&target.host_key());
            aws::check(client, &target, f)
        }
        Route::Db(protocol, host) => {
            let _slot = throttle.acquire(&host);
            db::check(protocol, f, opts)
        }
    }
}

/// A client whose only route to the target's host is the addresses the
/// guard checked.
fn pinned_client(
    target: &http::Target,
    opts: &VerifyOptions,
) -> Result<reqwest::blocking::Client, String> {
    let host = target.url.host_str().unwrap_or("");
    let port = target.url.port_or_known_default().unwrap_or(443);
    let addrs = guard::resolve_checked(host, port, opts.allow_internal)?;
    crate::http::builder(opts.timeout)
        .resolve_to_addrs(host, &addrs)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// Parts that say where a secret works, not what it is: a detail may name them.
const LOCATING_PARTS: &[&str] = &[
    "host", "port", "database", "user", "shop", "domain", "site", "email",
];

/// The verification with the secret and its longer parts masked: whatever a
/// provider echoed back, the detail never carries them.
fn scrub(mut v: Verification, f: &Finding) -> Verification {
    v.detail = v.detail.map(|d| {
        let mut d = d.replace(&f.secret, &redact(&f.secret));
        let secret_parts = f
            .parts
            .iter()
            .filter(|(name, _)| !LOCATING_PARTS.contains(&name.as_str()))
            .map(|(_, p)| p);
        for p in secret_parts.filter(|p| p.len() >= 8) {
            d = d.replace(p.as_str(), &redact(p));
        }
        d
    });
    v
}

fn spec_of<'a>(detectors: &'a DetectorSet, f: &Finding) -> Option<&'a VerifySpec> {
    let i = detectors.index_of(f.detector.as_str())?;
    detectors.as_slice()[i].verify.as_ref()
}
