//! GitHub (and GitHub Enterprise, via the API base URL): the repositories
//! of organisations, users, or named one by one.

use serde_json::Value;

use super::{Api, ApiError, Collector, Listing, RemoteRepo};

/// The public API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// What to enumerate.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Every repository of these organisations.
    pub orgs: Vec<String>,
    /// Every repository these users own.
    pub users: Vec<String>,
    /// These repositories (`owner/name`).
    pub repos: Vec<String>,
}

/// The header that carries a GitHub token to the API.
pub fn auth_header(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

/// Lists the selection. An owner or repository whose metadata cannot be
/// read is recorded in [`Listing::skipped`] and the rest goes on; only a
/// failure on every owner is an error.
///
/// # Errors
/// When nothing could be listed at all.
pub fn list(api: &Api, selection: &Selection) -> Result<Listing, ApiError> {
    let mut collect = Collector::new(repo);
    for org in &selection.orgs {
        let r = api.get_pages(
            &format!("/orgs/{org}/repos?per_page=100&type=all"),
            &format!("repositories of organisation {org}"),
        );
        collect.add(org.clone(), r);
    }
    for user in &selection.users {
        let r = api.get_pages(
            &format!("/users/{user}/repos?per_page=100&type=owner"),
            &format!("repositories of user {user}"),
        );
        collect.add(user.clone(), r);
    }
    for full in &selection.repos {
        let r = api
            .get(&format!("/repos/{full}"), &format!("repository {full}"))
            .map(|v| vec![v]);
        collect.add(full.clone(), r);
    }
    collect.finish()
}

/// A repository object of the REST API.
fn repo(v: &Value) -> Option<RemoteRepo> {
    Some(RemoteRepo {
        full_name: v.get("full_name")?.as_str()?.to_string(),
        clone_url: v.get("clone_url")?.as_str()?.to_string(),
        fork: v.get("fork").and_then(Value::as_bool).unwrap_or(false),
        archived: v.get("archived").and_then(Value::as_bool).unwrap_or(false),
        has_wiki: v.get("has_wiki").and_then(Value::as_bool).unwrap_or(false),
    })
}
