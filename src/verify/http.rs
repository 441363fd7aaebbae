//! The declarative HTTP verifier: fill the request template, send it under
//! the safety policy, read the answer against the detector's rules.

use std::{io::Read, thread, time::Duration};

use crate::{
    detector::VerifySpec,
    finding::{Finding, Verification, VerificationStatus},
};

use super::VerifyOptions;

/// Most bytes of an answer read; the rest is ignored (and said so).
pub const MAX_BODY: u64 = 1 << 20;
/// Longest wait honoured from a `Retry-After` header.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// Where a verifier sends its request.
#[derive(Debug, Clone)]
pub(super) struct Target {
    /// The URL, placeholders filled, endpoint override applied.
    pub url: reqwest::Url,
    /// Whether the host came from the scanned data (a webhook URL, a
    /// `{{shop}}` subdomain) rather than the detector file or the operator:
    /// such a host must pass the network guard.
    pub host_from_data: bool,
}

impl Target {
    /// `host[:port]`, the key of per-host limits.
    pub fn host_key(&self) -> String {
        let host = self.url.host_str().unwrap_or("");
        match self.url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        }
    }
}

/// The target of `template` (a verifier URL) for finding `f` of detector
/// `id`: placeholders filled, then scheme, host and port replaced by an
/// `--verify-endpoint` override when one is given for `id`.
///
/// # Errors
/// When the filled URL is not a URL (a part was missing, or the data that
/// made the host is not a host).
pub(super) fn target(
    template: &str,
    f: &Finding,
    id: &str,
    opts: &VerifyOptions,
) -> Result<Target, String> {
    let filled = fill(template, f);
    if let Some(name) = crate::detector::placeholders(&filled).next() {
        return Err(format!("no `{name}` found with the secret"));
    }
    let url = reqwest::Url::parse(&filled).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("not an http(s) URL ({})", url.scheme()));
    }
    let Some(base) = opts.endpoints.get(id) else {
        let authority = template.split("://").nth(1).unwrap_or(template);
        let authority = authority.split('/').next().unwrap_or("");
        return Ok(Target {
            url,
            host_from_data: template.starts_with("{{") || authority.contains("{{"),
        });
    };
    let mut out = reqwest::Url::parse(base)
        .map_err(|e| format!("--verify-endpoint for {id} is not a URL ({e})"))?;
    out.set_path(&format!(
        "{}{}",
        out.path().trim_end_matches('/'),
        url.path()
    ));
    out.set_query(url.query());
    Ok(Target {
        url: out,
        host_from_data: false,
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

/// Reads an answer up to one byte past [`MAX_BODY`], so the caller can tell
/// it was longer.
pub(super) fn read_bounded(resp: reqwest::blocking::Response) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    resp.take(MAX_BODY + 1).read_to_end(&mut body)?;
    Ok(body)
}

/// Sends one declarative check to `target` with `client` and reads the
/// answer under the detector's rules.
pub(super) fn check(
    client: &reqwest::blocking::Client,
    spec: &VerifySpec,
    target: &Target,
    f: &Finding,
    opts: &VerifyOptions,
) -> Verification {
    let method = spec.method.as_deref().unwrap_or("GET");
    let Ok(method) = reqwest::Method::from_bytes(method.as_bytes()) else {
        return outcome(VerificationStatus::Error, "invalid HTTP method");
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut req = client.request(method.clone(), target.url.clone());
        for (k, v) in &spec.headers {
            req = req.header(k, fill(v, f));
        }
        if let Some([user, password]) = &spec.basic_auth {
            req = req.basic_auth(fill(user, f), Some(fill(password, f)));
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
                &format!(
                    "HTTP {status}: redirect not followed (secrets go only to the verifier's host)"
                ),
            );
        }
        let mut body = match read_bounded(resp) {
            Ok(b) => b,
            Err(e) => {
                return outcome(
                    VerificationStatus::Error,
                    &format!("reading the answer failed: {e}"),
                )
            }
        };
        let truncated = body.len() as u64 > MAX_BODY;
        body.truncate(MAX_BODY as usize);
        return judge(spec, status, &body, truncated);
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
