//! The clone cache: one bare mirror per repository, cloned on first sight
//! and fetched on later runs, so a nightly run downloads only what changed.
//!
//! This uses the `git` command rather than gix: it is what every CI image
//! and workstation already has, it speaks every transport and auth scheme a
//! forge offers (smart HTTP with any credential, SSH, proxies), and it is
//! the most battle-tested client for very large repositories. gix then
//! reads the mirrors for the scan.
//!
//! The token reaches git as an `http.extraHeader` set through the
//! environment (`GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_0`/`GIT_CONFIG_VALUE_0`):
//! not in the URL (which git stores in the mirror's config and prints in
//! errors), not in an argument (which any user sees in the process list).
//! git's own messages are scrubbed of it before they are reported.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use base64::Engine as _;

use super::RemoteRepo;

/// Credentials for git over HTTPS: the user name a forge expects with a
/// token (`x-access-token` on GitHub, `oauth2` on GitLab) and the token.
#[derive(Clone)]
pub struct GitAuth {
    /// User name sent with the token.
    pub user: &'static str,
    /// The token.
    pub token: String,
}

impl std::fmt::Debug for GitAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitAuth")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A mirror brought up to date.
#[derive(Debug, Clone)]
pub struct Mirror {
    /// The bare repository on disk.
    pub path: PathBuf,
    /// Whether it was cloned now (false: fetched).
    pub cloned: bool,
}

/// The default cache: `$XDG_CACHE_HOME/leakhound/repos`, else
/// `~/.cache/leakhound/repos`, else `.leakhound-cache/repos`.
pub fn default_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".leakhound-cache"));
    base.join("leakhound").join("repos")
}

/// Where `repo`'s mirror lives under `dir`: `<host>/<full name>.git`, with
/// anything but `[A-Za-z0-9._-]` in each segment replaced.
pub fn path_for(dir: &Path, repo: &RemoteRepo) -> PathBuf {
    let host = reqwest::Url::parse(&repo.clone_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "local".into());
    let mut path = dir.join(sanitize(&host));
    for segment in repo.full_name.split('/') {
        path.push(sanitize(segment));
    }
    path.set_extension(match path.extension() {
        Some(ext) => format!("{}.git", ext.to_string_lossy()),
        None => "git".into(),
    });
    path
}

fn sanitize(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.chars().all(|c| c == '.') {
        "_".into()
    } else {
        s
    }
}

/// Clones `repo` as a bare mirror under `dir`, or fetches it when the
/// mirror exists (pruning refs the remote deleted, so force-pushed history
/// leaves the scan).
///
/// # Errors
/// git's message, scrubbed of the token, when the clone or fetch fails.
pub fn update(dir: &Path, repo: &RemoteRepo, auth: Option<&GitAuth>) -> Result<Mirror, String> {
    let path = path_for(dir, repo);
    let cloned = !path.join("HEAD").exists();
    let mut cmd = git(auth);
    if cloned {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        // A half-finished clone from an interrupted run is started over.
        if path.exists() {
            let _ = std::fs::remove_dir_all(&path);
        }
        cmd.args(["clone", "--mirror", "--quiet", "--", &repo.clone_url])
            .arg(&path);
    } else {
        cmd.arg("--git-dir")
            .arg(&path)
            .args(["fetch", "--prune", "--quiet", "origin"]);
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let message = String::from_utf8_lossy(&out.stderr);
        let message = match auth {
            Some(a) if !a.token.is_empty() => message.replace(&a.token, "*****"),
            _ => message.into_owned(),
        };
        let message = message.trim();
        return Err(format!(
            "git {} failed: {}",
            if cloned { "clone" } else { "fetch" },
            if message.is_empty() {
                "no message"
            } else {
                message
            }
        ));
    }
    Ok(Mirror { path, cloned })
}

/// A `git` command that never prompts, ignores credential helpers and user
/// config that could redirect it, and carries the token (if any) in an
/// environment-set header.
fn git(auth: Option<&GitAuth>) -> Command {
    let mut cmd = Command::new("git");
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("SSH_ASKPASS", "")
        .args(["-c", "credential.helper=", "-c", "core.askPass="]);
    if let Some(a) = auth.filter(|a| !a.token.is_empty()) {
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", a.user, a.token));
        cmd.env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "http.extraHeader")
            .env(
                "GIT_CONFIG_VALUE_0",
                format!("Authorization: Basic {basic}"),
            );
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_paths_stay_inside_the_cache() {
        let repo = RemoteRepo {
            full_name: "../../etc/passwd".into(),
            clone_url: "https://github.com/x/y.git".into(),
            fork: false,
            archived: false,
            has_wiki: false,
        };
        let p = path_for(Path::new("/cache"), &repo);
        assert_eq!(p, PathBuf::from("/cache/github.com/_/_/etc/passwd.git"));
        let wiki = RemoteRepo {
            full_name: "acme/api.wiki".into(),
            ..repo
        };
        assert_eq!(
            path_for(Path::new("/c"), &wiki),
            PathBuf::from("/c/github.com/acme/api.wiki.git")
        );
    }
}
