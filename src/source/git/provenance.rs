//! Commit metadata for reports: author, date and summary, read only for the
//! commits that findings point at, and cached.

use std::{collections::HashMap, sync::Arc};

use gix::ObjectId;

/// What a report says about a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full hex id.
    pub id: String,
    /// Author name (lossy UTF-8).
    pub author: String,
    /// Author email (lossy UTF-8).
    pub email: String,
    /// Author date, RFC 3339.
    pub date: String,
    /// First line of the message (lossy UTF-8).
    pub summary: String,
}

/// Reads and caches [`CommitInfo`]s.
pub struct Provenance {
    repo: gix::Repository,
    cache: HashMap<ObjectId, Arc<CommitInfo>>,
}

impl std::fmt::Debug for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provenance")
            .field("cached", &self.cache.len())
            .finish()
    }
}

impl Provenance {
    pub(super) fn new(repo: gix::Repository) -> Provenance {
        Provenance {
            repo,
            cache: HashMap::new(),
        }
    }

    /// The metadata of commit `id`; fields that cannot be read are empty.
    pub fn commit(&mut self, id: ObjectId) -> Arc<CommitInfo> {
        if let Some(c) = self.cache.get(&id) {
            return c.clone();
        }
        let mut info = CommitInfo {
            id: id.to_string(),
            author: String::new(),
            email: String::new(),
            date: String::new(),
            summary: String::new(),
        };
        if let Ok(commit) = self.repo.find_commit(id) {
            if let Ok(author) = commit.author() {
                info.author = author.name.to_string();
                info.email = author.email.to_string();
                if let Ok(time) = author.time() {
                    info.date = time
                        .format(gix::date::time::format::ISO8601_STRICT)
                        .unwrap_or_default();
                }
            }
            if let Ok(message) = commit.message() {
                info.summary = message.summary().to_string();
            }
        }
        let info = Arc::new(info);
        self.cache.insert(id, info.clone());
        info
    }
}
