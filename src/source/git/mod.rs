//! The git source: every blob of a repository's history, each read once, with
//! where it was introduced.
//!
//! Two phases, measured separately:
//!
//! 1. [`inventory`] works out *what* to scan: the commits selected (every
//!    ref by default), walked parents-first, and the blobs they introduce.
//!    Each distinct (tree, path) is decoded once, so the cost is the number
//!    of distinct trees, not commits × files.
//! 2. The scan phase (in [`crate::scan`]) reads each unique blob once, in
//!    parallel, with a thread-local repository handle per worker.
//!
//! Repositories are opened isolated from the user's and system's git config
//! and environment: the scanned repository is untrusted input.

pub mod inventory;
mod provenance;

use std::path::{Path, PathBuf};

pub use inventory::{Appearance, BlobEntry, Inventory, Origin};
pub use provenance::{CommitInfo, Provenance};

/// Why a git scan could not start or a part of it failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path is not a git repository (or cannot be opened as one).
    #[error("{path} is not a git repository: {message}")]
    Open {
        /// The path given.
        path: PathBuf,
        /// gix's reason.
        message: String,
    },
    /// A revision given on the command line does not resolve.
    #[error("cannot resolve revision `{spec}`: {message}")]
    Revision {
        /// The revision as given.
        spec: String,
        /// gix's reason.
        message: String,
    },
    /// Reading refs, the commit graph or the index failed as a whole.
    #[error("{action}: {message}")]
    Read {
        /// What was being done.
        action: &'static str,
        /// gix's reason.
        message: String,
    },
}

/// Delta-base cache per thread: enough for the bases of a few hundred
/// versions of large files.
const PACK_CACHE_BYTES: usize = 8 << 20;

/// Which part of history to scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Selection {
    /// Every commit reachable from any ref (branches, tags, remotes, stash, notes) and HEAD.
    #[default]
    AllRefs,
    /// Commits reachable from one ref or revision.
    Branch(String),
    /// Commits reachable from any ref but not from this revision (CI on a pull request).
    Since(String),
    /// `A..B`: commits reachable from B but not from A.
    Range(String, String),
    /// The staged changes: index entries that differ from HEAD (pre-commit hooks).
    Staged,
}

/// Configures a [`GitSource`].
#[derive(Debug, Clone)]
pub struct GitSourceBuilder {
    selection: Selection,
    all_objects: bool,
    max_blob_size: u64,
    name: Option<String>,
}

impl Default for GitSourceBuilder {
    fn default() -> Self {
        GitSourceBuilder {
            selection: Selection::AllRefs,
            all_objects: false,
            max_blob_size: 25 << 20,
            name: None,
        }
    }
}

impl GitSourceBuilder {
    /// A builder with defaults: all refs, reachable objects, blobs up to 25 MiB.
    pub fn new() -> GitSourceBuilder {
        GitSourceBuilder::default()
    }

    /// Which commits to scan (default: all refs).
    pub fn selection(&mut self, selection: Selection) -> &mut Self {
        self.selection = selection;
        self
    }

    /// Also scan blobs no ref reaches (amended-away commits, deleted branches,
    /// dropped stashes). Costs one header lookup per object in the database.
    pub fn all_objects(&mut self, yes: bool) -> &mut Self {
        self.all_objects = yes;
        self
    }

    /// Blobs larger than this are skipped and recorded (default 25 MiB); the
    /// size comes from the object header, so a huge blob is never inflated.
    pub fn max_blob_size(&mut self, bytes: u64) -> &mut Self {
        self.max_blob_size = bytes;
        self
    }

    /// The name reports give the repository (default: its path), e.g.
    /// `acme/api` for a mirror in the clone cache.
    pub fn name(&mut self, name: impl Into<String>) -> &mut Self {
        self.name = Some(name.into());
        self
    }

    /// Opens the repository at `path` (a working copy or a bare repository).
    ///
    /// # Errors
    /// [`Error::Open`] when `path` is not a repository.
    pub fn build(&self, path: &Path) -> Result<GitSource, Error> {
        let repo = gix::ThreadSafeRepository::open_opts(path, gix::open::Options::isolated())
            .map_err(|e| Error::Open {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        Ok(GitSource {
            repo,
            path: path.to_path_buf(),
            options: self.clone(),
        })
    }
}

/// An opened repository and what to scan of it.
#[derive(Debug, Clone)]
pub struct GitSource {
    repo: gix::ThreadSafeRepository,
    path: PathBuf,
    options: GitSourceBuilder,
}

impl GitSource {
    /// The repository as given on the command line (or its
    /// [`GitSourceBuilder::name`]), for reports.
    pub fn display(&self) -> String {
        match &self.options.name {
            Some(name) => name.clone(),
            None => self.path.display().to_string(),
        }
    }

    /// The work tree of a non-bare repository.
    pub fn work_dir(&self) -> Option<PathBuf> {
        self.repo.to_thread_local().workdir().map(Path::to_path_buf)
    }

    /// Largest blob to read.
    pub fn max_blob_size(&self) -> u64 {
        self.options.max_blob_size
    }

    /// A repository handle for the current thread, with its own caches: a
    /// delta-base cache sized for walking whole histories (git stores each
    /// file's newest version whole and older ones as deltas against it, so
    /// bases are reused heavily), and a small decoded-object cache.
    pub fn thread_local(&self) -> gix::Repository {
        let mut repo = self.repo.to_thread_local();
        repo.objects.set_pack_cache(|| {
            Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                PACK_CACHE_BYTES,
            ))
        });
        repo.object_cache_size_if_unset(4 << 20);
        repo
    }

    /// Phase 1: what to scan, with commit diffs on `threads` workers (0: one per core).
    ///
    /// # Errors
    /// When refs cannot be listed or a revision does not resolve; a broken
    /// object inside history is recorded in [`Inventory::skipped`] instead.
    pub fn inventory(&self, threads: usize) -> Result<Inventory, Error> {
        inventory::build(
            &self.thread_local(),
            &|| self.thread_local(),
            threads,
            &self.options.selection,
            self.options.all_objects,
        )
    }

    /// A digest of everything that decides what [`GitSource::inventory`]
    /// would list: the selection and every ref's target. Equal digests mean
    /// the same history, so a state-keeping rerun can skip listing it.
    /// `None` with `--all-objects`, where unreferenced objects count too.
    ///
    /// # Errors
    /// When the refs cannot be listed.
    pub fn history_digest(&self) -> Result<Option<String>, Error> {
        if self.options.all_objects {
            return Ok(None);
        }
        use sha2::{Digest, Sha256};
        let repo = self.repo.to_thread_local();
        let mut skipped = Vec::new();
        let tips = inventory::all_ref_tips(&repo, &mut skipped)?;
        let mut h = Sha256::new();
        h.update(format!("{:?}\n", self.options.selection).as_bytes());
        for tip in tips {
            h.update(tip.as_bytes());
        }
        Ok(Some(hex::encode(&h.finalize()[..16])))
    }

    /// Commit metadata for reports, read on demand.
    pub fn provenance(&self) -> Provenance {
        Provenance::new(self.thread_local())
    }
}

/// Whether `path` is the root of a git repository that opens (a working
/// copy with its `.git`, or a bare repository). A directory with a broken or
/// fake `.git` is not one, and is scanned as files instead.
pub fn is_repository_root(path: &Path) -> bool {
    let looks_like_one = path.join(".git").exists()
        || (path.join("HEAD").is_file()
            && path.join("objects").is_dir()
            && path.join("refs").is_dir());
    looks_like_one && GitSourceBuilder::new().build(path).is_ok()
}
