//! A small REST client for forge APIs: JSON pages followed by the `Link`
//! header's `rel="next"`, rate limits waited out (with a message, not a
//! failure), 5xx retried, the token sent only in its header.

use std::{
    thread,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::Value;

/// Attempts per request on 5xx and network errors.
const ATTEMPTS: u32 = 4;
/// Longest rate-limit wait honoured before giving up on a request.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// Why an API request failed. Never carries the token.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Network, TLS or timeout.
    #[error("{what}: request failed: {message}")]
    Http {
        /// The resource.
        what: String,
        /// The cause, without the URL.
        message: String,
    },
    /// An error status.
    #[error("{what}: HTTP {status}{hint}")]
    Status {
        /// The resource.
        what: String,
        /// The status code.
        status: u16,
        /// What to check.
        hint: &'static str,
    },
    /// Not the JSON expected.
    #[error("{what}: the answer is not the expected JSON ({detail})")]
    Shape {
        /// The resource.
        what: String,
        /// What was wrong.
        detail: String,
    },
}

/// A forge API at a base URL with an optional token header.
pub struct Api {
    client: reqwest::blocking::Client,
    base: String,
    auth: Option<(&'static str, String)>,
    notify: Box<dyn Fn(&str) + Send + Sync>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Api {
    /// A client for `base` (e.g. `https://api.github.com`) sending the
    /// token, if any, as header `auth.0` with value `auth.1`; `notify`
    /// receives progress messages (rate-limit waits).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(
        base: &str,
        auth: Option<(&'static str, String)>,
        notify: Box<dyn Fn(&str) + Send + Sync>,
    ) -> Result<Api, ApiError> {
        let client = crate::http::client(Duration::from_secs(30)).map_err(|e| ApiError::Http {
            what: base.to_string(),
            message: e.without_url().to_string(),
        })?;
        Ok(Api {
            client,
            base: base.trim_end_matches('/').to_string(),
            auth,
            notify,
        })
    }

    /// GET `path` (relative to the base) as JSON.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub fn get(&self, path: &str, what: &str) -> Result<Value, ApiError> {
        self.fetch(&format!("{}{path}", self.base), what)
            .map(|(v, _)| v)
    }

    /// Every page of the list at `path`: arrays concatenated, following
    /// `Link: <…>; rel="next"` while it stays on the API's host.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub fn get_pages(&self, path: &str, what: &str) -> Result<Vec<Value>, ApiError> {
        let mut url = format!("{}{path}", self.base);
        let mut out = Vec::new();
        for page in 1.. {
            let (value, next) = self.fetch(&url, &format!("{what} (page {page})"))?;
            match value {
                Value::Array(items) => out.extend(items),
                _ => {
                    return Err(ApiError::Shape {
                        what: what.to_string(),
                        detail: "not a list".into(),
                    })
                }
            }
            match next {
                Some(n) if self.same_origin(&n) => url = n,
                _ => break,
            }
        }
        Ok(out)
    }

    fn same_origin(&self, url: &str) -> bool {
        let origin = |u: &str| {
            reqwest::Url::parse(u).ok().map(|u| {
                (
                    u.scheme().to_string(),
                    u.host_str().map(str::to_string),
                    u.port(),
                )
            })
        };
        origin(url).is_some() && origin(url) == origin(&self.base)
    }

    /// One GET with retries; returns the JSON and the next page's URL.
    fn fetch(&self, url: &str, what: &str) -> Result<(Value, Option<String>), ApiError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self.client.get(url).header("Accept", "application/json");
            if let Some((name, value)) = &self.auth {
                req = req.header(*name, value);
            }
            let resp = match req.send() {
                Ok(r) => r,
                Err(e) if attempt < ATTEMPTS => {
                    (self.notify)(&format!("{what}: {}; retrying", e.without_url()));
                    thread::sleep(backoff(attempt));
                    continue;
                }
                Err(e) => {
                    return Err(ApiError::Http {
                        what: what.to_string(),
                        message: e.without_url().to_string(),
                    })
                }
            };
            let status = resp.status().as_u16();
            if let Some(wait) = rate_limit_wait(status, resp.headers()) {
                if wait > MAX_WAIT {
                    return Err(ApiError::Status {
                        what: what.to_string(),
                        status,
                        hint: " (rate limited for more than an hour)",
                    });
                }
                (self.notify)(&format!(
                    "rate limited by the API; waiting {} s before {what}",
                    wait.as_secs().max(1)
                ));
                thread::sleep(wait);
                continue;
            }
            if resp.status().is_server_error() && attempt < ATTEMPTS {
                thread::sleep(backoff(attempt));
                continue;
            }
            if !resp.status().is_success() {
                return Err(ApiError::Status {
                    what: what.to_string(),
                    status,
                    hint: match status {
                        401 => " (check the token)",
                        403 => " (the token lacks access)",
                        404 => " (not found, or not visible to the token)",
                        _ => "",
                    },
                });
            }
            let next = next_link(resp.headers());
            let bytes = resp.bytes().map_err(|e| ApiError::Http {
                what: what.to_string(),
                message: e.without_url().to_string(),
            })?;
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| ApiError::Shape {
                what: what.to_string(),
                detail: e.to_string(),
            })?;
            return Ok((value, next));
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 << attempt.min(6))
}

/// How long to wait when an answer says the rate limit is spent: a 429, or
/// a 403 with `x-ratelimit-remaining: 0` (GitHub's primary limit) — from
/// `Retry-After`, else the reset time (`x-ratelimit-reset` on GitHub,
/// `ratelimit-reset` on GitLab, both epoch seconds).
fn rate_limit_wait(status: u16, headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let spent =
        header("x-ratelimit-remaining").or_else(|| header("ratelimit-remaining")) == Some("0");
    if !(status == 429 || (status == 403 && (spent || header("retry-after").is_some()))) {
        return None;
    }
    if let Some(wait) = crate::http::retry_after(headers) {
        return Some(wait);
    }
    let reset: u64 = header("x-ratelimit-reset")
        .or_else(|| header("ratelimit-reset"))?
        .trim()
        .parse()
        .ok()?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Some(Duration::from_secs(reset.saturating_sub(now) + 1))
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}
