//! Remote repositories: which repositories an organisation, user or group
//! holds (the GitHub and GitLab REST APIs), and local mirrors of them (the
//! clone cache) for the git source to read.
//!
//! The token travels only in a header to the configured API base URL and,
//! for git, in a header given through the environment of the `git` process —
//! never in a URL, an argument (which `ps` shows) or a message.

mod api;
pub mod github;
pub mod gitlab;
pub mod mirror;

pub use api::{Api, ApiError};

use crate::source::Skipped;

/// One repository to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRepo {
    /// `owner/name` (GitHub) or `group/sub/project` (GitLab): the name reports use.
    pub full_name: String,
    /// HTTPS clone URL (or `file://` in tests), without credentials.
    pub clone_url: String,
    /// A fork of another repository.
    pub fork: bool,
    /// Archived (read-only).
    pub archived: bool,
    /// Whether it has a wiki to clone (`.wiki.git`).
    pub has_wiki: bool,
}

/// Which enumerated repositories to keep.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Keep forks (default: skip them).
    pub include_forks: bool,
    /// Keep archived repositories (default: skip them).
    pub include_archived: bool,
    /// Keep only full names matching this glob (e.g. `acme/api-*`).
    pub name_glob: Option<globset::GlobMatcher>,
    /// Also scan each repository's wiki, when it has one.
    pub wikis: bool,
}

impl Filters {
    /// Whether `repo` passes.
    pub fn keep(&self, repo: &RemoteRepo) -> bool {
        (self.include_forks || !repo.fork)
            && (self.include_archived || !repo.archived)
            && self
                .name_glob
                .as_ref()
                .is_none_or(|g| g.is_match(&repo.full_name))
    }
}

/// What enumeration found: the repositories (filtered, sorted, unique), and
/// what it could not list.
#[derive(Debug, Default)]
pub struct Listing {
    /// Repositories to scan.
    pub repos: Vec<RemoteRepo>,
    /// Owners or repositories whose metadata could not be read.
    pub skipped: Vec<Skipped>,
}

impl Listing {
    /// Applies `filters`, adds wikis when asked, sorts by name and drops
    /// duplicates (an org and one of its repositories named twice).
    pub fn finish(mut self, filters: &Filters) -> Listing {
        self.repos.retain(|r| filters.keep(r));
        if filters.wikis {
            let wikis: Vec<RemoteRepo> = self
                .repos
                .iter()
                .filter(|r| r.has_wiki)
                .map(|r| RemoteRepo {
                    full_name: format!("{}.wiki", r.full_name),
                    clone_url: wiki_url(&r.clone_url),
                    has_wiki: false,
                    ..r.clone()
                })
                .collect();
            self.repos.extend(wikis);
        }
        self.repos.sort_by(|a, b| a.full_name.cmp(&b.full_name));
        self.repos.dedup_by(|a, b| a.full_name == b.full_name);
        self
    }

    /// Keeps shard `k` of `n` (1-based): each repository belongs to exactly
    /// one shard, chosen by a stable hash of its full name, so `n` workers
    /// given `1/n` … `n/n` cover the listing exactly once whatever order
    /// the API returned it in.
    pub fn shard(mut self, k: u32, n: u32) -> Listing {
        self.repos.retain(|r| shard_of(&r.full_name, n) == k);
        self
    }
}

/// Gathers the answers of an enumeration's list calls: repositories from
/// the ones that worked, a skipped entry for each that failed.
pub(crate) struct Collector {
    listing: Listing,
    last_error: Option<ApiError>,
    parse: fn(&serde_json::Value) -> Option<RemoteRepo>,
}

impl Collector {
    /// A collector reading repository objects with `parse`.
    pub(crate) fn new(parse: fn(&serde_json::Value) -> Option<RemoteRepo>) -> Collector {
        Collector {
            listing: Listing::default(),
            last_error: None,
            parse,
        }
    }

    /// What listing `what` returned.
    pub(crate) fn add(&mut self, what: String, result: Result<Vec<serde_json::Value>, ApiError>) {
        match result {
            Ok(items) => self
                .listing
                .repos
                .extend(items.iter().filter_map(self.parse)),
            Err(e) => {
                self.listing.skipped.push(Skipped {
                    path: what,
                    reason: e.to_string(),
                });
                self.last_error = Some(e);
            }
        }
    }

    /// The listing; an error only when nothing was listed and a call failed.
    pub(crate) fn finish(self) -> Result<Listing, ApiError> {
        match self.last_error {
            Some(e) if self.listing.repos.is_empty() => Err(e),
            _ => Ok(self.listing),
        }
    }
}

/// The 1-based shard of `full_name` among `n`.
pub fn shard_of(full_name: &str, n: u32) -> u32 {
    let h = xxhash_rust::xxh3::xxh3_64(full_name.as_bytes());
    (h % u64::from(n.max(1))) as u32 + 1
}

/// `https://host/o/r.git` → `https://host/o/r.wiki.git`.
fn wiki_url(clone_url: &str) -> String {
    match clone_url.strip_suffix(".git") {
        Some(base) => format!("{base}.wiki.git"),
        None => format!("{clone_url}.wiki.git"),
    }
}

/// `K/N` as given to `--shard`.
///
/// # Errors
/// A message when it is not two numbers with 1 ≤ K ≤ N.
pub fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("--shard expects K/N with 1 <= K <= N, got `{s}`");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let k: u32 = k.trim().parse().map_err(|_| bad())?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_every_name_once() {
        let names: Vec<String> = (0..200).map(|i| format!("acme/repo-{i}")).collect();
        let mut counts = [0; 3];
        for n in &names {
            let k = shard_of(n, 3);
            assert!((1..=3).contains(&k));
            counts[k as usize - 1] += 1;
            assert_eq!(shard_of(n, 3), k, "stable");
        }
        assert!(counts.iter().all(|&c| c > 40), "{counts:?}");
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
        assert!(parse_shard("0/3").is_err() && parse_shard("4/3").is_err());
    }
}
