//! GitLab (gitlab.com or self-managed, via the API base URL): the projects
//! of groups (and their subgroups), or named one by one.

use serde_json::Value;

use super::{Api, ApiError, Collector, Listing, RemoteRepo};

/// gitlab.com's API.
pub const DEFAULT_API_URL: &str = "https://gitlab.com/api/v4";

/// What to enumerate.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Every project of these groups (full paths).
    pub groups: Vec<String>,
    /// With `groups`: their subgroups' projects too.
    pub include_subgroups: bool,
    /// These projects (full paths).
    pub projects: Vec<String>,
}

/// The header that carries a GitLab token to the API.
pub fn auth_header(token: &str) -> (&'static str, String) {
    ("PRIVATE-TOKEN", token.to_string())
}

/// A path as one URL segment: GitLab addresses groups and projects by
/// their URL-encoded full path.
fn encode(path: &str) -> String {
    path.replace('%', "%25").replace('/', "%2F")
}

/// Lists the selection; see [`super::github::list`] for how failures count.
///
/// # Errors
/// When nothing could be listed at all.
pub fn list(api: &Api, selection: &Selection) -> Result<Listing, ApiError> {
    let mut collect = Collector::new(project);
    for group in &selection.groups {
        let r = api.get_pages(
            &format!(
                "/groups/{}/projects?per_page=100&include_subgroups={}",
                encode(group),
                selection.include_subgroups
            ),
            &format!("projects of group {group}"),
        );
        collect.add(group.clone(), r);
    }
    for path in &selection.projects {
        let r = api
            .get(
                &format!("/projects/{}", encode(path)),
                &format!("project {path}"),
            )
            .map(|v| vec![v]);
        collect.add(path.clone(), r);
    }
    collect.finish()
}

/// A project object of the REST API.
fn project(v: &Value) -> Option<RemoteRepo> {
    Some(RemoteRepo {
        full_name: v.get("path_with_namespace")?.as_str()?.to_string(),
        clone_url: v.get("http_url_to_repo")?.as_str()?.to_string(),
        fork: v.get("forked_from_project").is_some_and(|f| !f.is_null()),
        archived: v.get("archived").and_then(Value::as_bool).unwrap_or(false),
        has_wiki: v
            .get("wiki_enabled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}
