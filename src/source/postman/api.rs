//! The Postman API as a source: collections and environments fetched by
//! workspace, by uid, or all the key can see.
//!
//! The key travels only in the `X-Api-Key` header to the configured base URL;
//! redirects are not followed (a redirect would carry the header to another
//! host); errors name the resource and status, never the key. Lists are
//! paginated (`limit` / `offset`) and a 429 waits for `Retry-After`.

use std::{thread, time::Duration};

use serde_json::Value;

use super::document::{kind_of, DocKind, Document};

/// The public Postman API.
pub const DEFAULT_BASE_URL: &str = "https://api.getpostman.com";
/// Page size asked of list endpoints.
const PAGE: usize = 100;
/// Attempts per request when the API answers 429 or 5xx.
const ATTEMPTS: u32 = 5;
/// Longest wait honoured from a `Retry-After` header.
const MAX_WAIT: Duration = Duration::from_secs(120);

/// What to fetch.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Every collection and environment of these workspaces.
    pub workspaces: Vec<String>,
    /// These collections (uid or id).
    pub collections: Vec<String>,
    /// These environments (uid or id).
    pub environments: Vec<String>,
    /// Everything the key can see.
    pub all: bool,
}

/// Why the API could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request failed (network, TLS, timeout).
    #[error("Postman API request for {what} failed: {source}")]
    Http {
        /// The resource.
        what: String,
        /// The cause.
        source: reqwest::Error,
    },
    /// The API answered with an error status.
    #[error("Postman API answered {status} for {what}{hint}")]
    Status {
        /// The resource.
        what: String,
        /// The status code.
        status: u16,
        /// What to check.
        hint: &'static str,
    },
    /// The answer was not the JSON shape expected.
    #[error("Postman API answer for {what} is not the expected JSON: {detail}")]
    Shape {
        /// The resource.
        what: String,
        /// What was wrong.
        detail: String,
    },
    /// No key.
    #[error("the Postman API needs a key: set POSTMAN_API_KEY")]
    NoKey,
}

/// A Postman API client.
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
    key: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `base` (e.g. [`DEFAULT_BASE_URL`]) with `key`.
    ///
    /// # Errors
    /// An empty key, or an HTTP client that cannot be built.
    pub fn new(base: &str, key: String) -> Result<Client, ApiError> {
        if key.trim().is_empty() {
            return Err(ApiError::NoKey);
        }
        let http =
            crate::http::client(Duration::from_secs(60)).map_err(|source| ApiError::Http {
                what: "client setup".into(),
                source,
            })?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_string(),
            key,
        })
    }

    /// Fetches every export `selection` names, each once.
    ///
    /// # Errors
    /// The first request that fails for good; what was fetched before is lost
    /// only for this source, the caller decides whether to go on.
    pub fn fetch(&self, selection: &Selection) -> Result<Vec<Document>, ApiError> {
        let mut collections = selection.collections.clone();
        let mut environments = selection.environments.clone();
        if selection.all {
            collections.extend(self.list("/collections", "collections", None)?);
            environments.extend(self.list("/environments", "environments", None)?);
        }
        for ws in &selection.workspaces {
            collections.extend(self.list("/collections", "collections", Some(ws))?);
            environments.extend(self.list("/environments", "environments", Some(ws))?);
        }
        dedup(&mut collections);
        dedup(&mut environments);
        let mut docs = Vec::new();
        for uid in &collections {
            docs.push(self.export("collections", "collection", uid)?);
        }
        for uid in &environments {
            docs.push(self.export("environments", "environment", uid)?);
        }
        Ok(docs)
    }

    /// The uids in a paginated list.
    fn list(
        &self,
        path: &str,
        field: &str,
        workspace: Option<&str>,
    ) -> Result<Vec<String>, ApiError> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let mut query = vec![("limit", PAGE.to_string()), ("offset", offset.to_string())];
            if let Some(ws) = workspace {
                query.push(("workspace", ws.to_string()));
            }
            let what = match workspace {
                Some(ws) => format!("{field} of workspace {ws}"),
                None => field.to_string(),
            };
            let body = self.get(path, &query, &what)?;
            let items =
                body.get(field)
                    .and_then(Value::as_array)
                    .ok_or_else(|| ApiError::Shape {
                        what: what.clone(),
                        detail: format!("no `{field}` array"),
                    })?;
            for item in items {
                if let Some(uid) = item
                    .get("uid")
                    .or_else(|| item.get("id"))
                    .and_then(Value::as_str)
                {
                    out.push(uid.to_string());
                }
            }
            offset += items.len();
            let total = body
                .get("meta")
                .and_then(|m| m.get("total"))
                .and_then(Value::as_u64)
                .map(|t| t as usize);
            let more = match total {
                Some(total) => offset < total && !items.is_empty(),
                None => items.len() >= PAGE,
            };
            if !more {
                return Ok(out);
            }
        }
    }

    /// One collection or environment, as a document.
    fn export(&self, path: &str, field: &str, uid: &str) -> Result<Document, ApiError> {
        let what = format!("{field} {uid}");
        let mut body = self.get(&format!("/{path}/{uid}"), &[], &what)?;
        let root = body
            .get_mut(field)
            .map(Value::take)
            .ok_or_else(|| ApiError::Shape {
                what: what.clone(),
                detail: format!("no `{field}` object"),
            })?;
        let kind = if field == "environment" {
            DocKind::Environment
        } else {
            kind_of(&root).unwrap_or(DocKind::Collection)
        };
        Ok(Document {
            path: format!("postman-api:{field}/{uid}"),
            kind,
            root,
            lossy: false,
        })
    }

    /// GET with retries on 429 (honouring `Retry-After`) and 5xx.
    fn get(&self, path: &str, query: &[(&str, String)], what: &str) -> Result<Value, ApiError> {
        let url = format!("{}{}", self.base, path);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let resp = self
                .http
                .get(&url)
                .query(query)
                .header("X-Api-Key", &self.key)
                .header("Accept", "application/json")
                .send()
                .map_err(|source| ApiError::Http {
                    what: what.to_string(),
                    source: source.without_url(),
                })?;
            let status = resp.status();
            if status.is_success() {
                let text = resp.text().map_err(|source| ApiError::Http {
                    what: what.to_string(),
                    source: source.without_url(),
                })?;
                return serde_json::from_str(&text).map_err(|e| ApiError::Shape {
                    what: what.to_string(),
                    detail: e.to_string(),
                });
            }
            let retry = status.as_u16() == 429 || status.is_server_error();
            if retry && attempt < ATTEMPTS {
                let wait = crate::http::retry_after(resp.headers())
                    .unwrap_or(Duration::from_millis(500 << attempt));
                tracing::info!(
                    "Postman API answered {status} for {what}; retrying in {} ms",
                    wait.as_millis()
                );
                thread::sleep(wait.min(MAX_WAIT));
                continue;
            }
            return Err(ApiError::Status {
                what: what.to_string(),
                status: status.as_u16(),
                hint: match status.as_u16() {
                    401 | 403 => " (is POSTMAN_API_KEY valid for this resource?)",
                    404 => " (no such resource)",
                    429 => " (rate limited; try again later)",
                    300..=399 => " (redirects are not followed: check --postman-api-url)",
                    _ => "",
                },
            });
        }
    }
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
}
