//! The declarative HTTP verifier: fill the request template, send it under
//! the safety policy, read the answer against the detector's rules.

use std::{io::Read, thread, time::Duration};

use crate::{
    detector::VerifySpec,
    finding::{redact, Finding, Verification, VerificationStatus},
};

use super::VerifyOptions;

/// Most bytes of an answer read; the rest is ignored (and said so).
pub const MAX_BODY: u64 = 1 << 20;
/// Longest wait honoured from a `Retry-After` header.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// Sends declarative verification requests.
pub struct HttpVerifier {
    client: reqwest::blocking::Client,
}

impl std::fmt::Debug for HttpVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpVerifier").finish_non_exhaustive()
    }
}

/// The URL a verifier contacts for detector `id`: the declared one, or with
/// its scheme, host and port replaced by an `--verify-endpoint` override.
pub(super) fn target_url(spec: &VerifySpec, id: &str, opts: &VerifyOptions) -> Option<String> {
    let url = spec.url.as_deref()?;
    Some(match opts.endpoints.get(id) {
        Some(base) => {
            // "https://host[:port]/rest" → base + "/rest"
            let rest = url.splitn(4, '/').nth(3).unwrap_or("");
            format!("{}/{}", base.trim_end_matches('/'), rest)
        }
        None => url.to_string(),
    })
}

/// `template` with `{{secret}}` and `{{part}}` filled in.
fn fill(template: &str, f: &Finding) -> String {
    let mut out = template.replace("{{secret}}", &f.secret);
    for (name, value) in &f.parts {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    out
}

impl HttpVerifier {
    /// A client that never follows redirects and verifies TLS.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(opts: &VerifyOptions) -> Result<HttpVerifier, String> {
        let client = crate::http::client(opts.timeout)
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(HttpVerifier { client })
    }

    /// Checks one finding against its detector's declarative verifier.
    pub fn check(&self, spec: &VerifySpec, f: &Finding, opts: &VerifyOptions) -> Verification {
        let result = self.check_inner(spec, f, opts);
        // Whatever happened, the detail never carries the secret.
        let scrub = |s: String| {
            let mut s = s.replace(&f.secret, &redact(&f.secret));
            for v in f.parts.values().filter(|v| v.len() >= 8) {
                s = s.replace(v.as_str(), &redact(v));
            }
            s
        };
        Verification {
            status: result.status,
            detail: result.detail.map(scrub),
        }
    }

    fn check_inner(&self, spec: &VerifySpec, f: &Finding, opts: &VerifyOptions) -> Verification {
        let Some(url) = target_url(spec, f.detector.as_str(), opts) else {
            return outcome(VerificationStatus::NotChecked, "no URL to verify against");
        };
        let url = fill(&url, f);
        let method = spec.method.as_deref().unwrap_or("GET");
        let Ok(method) = reqwest::Method::from_bytes(method.as_bytes()) else {
            return outcome(VerificationStatus::Error, "invalid HTTP method");
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self.client.request(method.clone(), &url);
            for (k, v) in &spec.headers {
                req = req.header(k, fill(v, f));
            }
            if let Some(body) = &spec.body {
                req = req.body(fill(body, f));
            }
            let resp = match req.send() {
                Ok(r) => r,
                Err(e) if e.is_timeout() => return outcome(VerificationStatus::Error, "timed out"),
                Err(e) => {
                    return outcome(
                        VerificationStatus::Error,
                        &format!("request failed: {}", e.without_url()),
                    )
                }
            };
            let status = resp.status().as_u16();
            if (status == 429 || resp.status().is_server_error()) && attempt < opts.attempts {
                let wait = crate::http::retry_after(resp.headers())
                    .unwrap_or(Duration::from_millis(250 << attempt));
                thread::sleep(wait.min(MAX_RETRY_WAIT));
                continue;
            }
            if resp.status().is_redirection() {
                return outcome(
                    VerificationStatus::Unknown,
                    &format!("HTTP {status}: redirect not followed (secrets go only to the verifier's host)"),
                );
            }
            let mut body = Vec::new();
            let read = resp.take(MAX_BODY + 1).read_to_end(&mut body);
            let truncated = body.len() as u64 > MAX_BODY;
            body.truncate(MAX_BODY as usize);
            if let Err(e) = read {
                return outcome(
                    VerificationStatus::Error,
                    &format!("reading the answer failed: {e}"),
                );
            }
            return judge(spec, status, &body, truncated);
        }
    }
}

/// Reads an answer against the detector's rules.
fn judge(spec: &VerifySpec, status: u16, body: &[u8], truncated: bool) -> Verification {
    let text = String::from_utf8_lossy(body);
    if spec.invalid_status.contains(&status)
        || spec.invalid_body.iter().any(|s| text.contains(s.as_str()))
    {
        return outcome(VerificationStatus::Invalid, &format!("HTTP {status}"));
    }
    let status_ok = spec.valid_status.is_empty() || spec.valid_status.contains(&status);
    let body_ok = spec.valid_body.iter().all(|s| text.contains(s.as_str()));
    let has_rule = !spec.valid_status.is_empty() || !spec.valid_body.is_empty();
    if status_ok && body_ok && has_rule {
        let identity = identity(spec, body);
        return Verification {
            status: VerificationStatus::Valid,
            detail: Some(if identity.is_empty() {
                format!("HTTP {status}")
            } else {
                identity
            }),
        };
    }
    let note = if truncated {
        " (answer longer than 1 MiB, read in part)"
    } else {
        ""
    };
    outcome(VerificationStatus::Unknown, &format!("HTTP {status}{note}"))
}

/// `pointer=value` for each identity pointer present in a JSON answer.
fn identity(spec: &VerifySpec, body: &[u8]) -> String {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    spec.identity
        .iter()
        .filter_map(|p| {
            let v = json.pointer(p)?;
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some(format!("{}={v}", p.trim_start_matches('/')))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn outcome(status: VerificationStatus, detail: &str) -> Verification {
    Verification {
        status,
        detail: Some(detail.to_string()),
    }
}
