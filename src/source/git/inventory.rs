//! Phase 1 of a git scan: which blobs to read, and where each appears.
//!
//! Commits are walked parents-first, and each commit's tree is compared with
//! its first parent's: only directories that changed are decoded. The first
//! commit to bring a (blob, path) pair is the commit that introduced that
//! blob at that path, and the blob the path held in the parent is its *base*:
//! the scan phase reads only what is new relative to it.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Instant,
};

use rayon::prelude::*;

use gix::{bstr::BString, objs::tree::EntryMode, prelude::FindExt, ObjectId};

use super::{Error, Selection};
use crate::source::Skipped;

/// Where a blob was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Introduced at its path by the commit with this index in [`Inventory::commits`].
    Commit(u32),
    /// Staged in the index, not yet committed.
    Staged,
    /// In the object database, reachable from no ref.
    Unreachable,
}

/// One place a blob appears.
#[derive(Debug, Clone)]
pub struct Appearance {
    /// Path in the tree (empty for unreachable blobs).
    pub path: BString,
    /// How it got there.
    pub origin: Origin,
}

/// A unique blob to scan, with every place it appears.
#[derive(Debug, Clone)]
pub struct BlobEntry {
    /// The blob's id.
    pub id: ObjectId,
    /// The blob its first path held in the parent commit (or HEAD, for a
    /// staged blob): lines already there were scanned with that blob.
    pub base: Option<ObjectId>,
    /// Every (path, introducing commit) pair.
    pub appearances: Vec<Appearance>,
}

/// Everything phase 1 found out.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Commits referenced by [`Origin::Commit`], parents first.
    pub commits: Vec<ObjectId>,
    /// Unique blobs to scan.
    pub blobs: Vec<BlobEntry>,
    /// Blob id → index in `blobs`.
    pub by_id: HashMap<ObjectId, usize>,
    /// Path → blob of the HEAD tree (empty for an unborn HEAD).
    pub head: HashMap<BString, ObjectId>,
    /// Objects that could not be read, and refs that were not followed.
    pub skipped: Vec<Skipped>,
    /// Wall time of phase 1.
    pub duration_ms: u64,
    /// Trees decoded.
    pub trees_read: u64,
}

impl Inventory {
    /// Keeps only the blobs `keep` accepts (an incremental scan drops those
    /// it scanned in an earlier run); the id index follows.
    pub fn retain_blobs(&mut self, mut keep: impl FnMut(&ObjectId) -> bool) {
        self.blobs.retain(|b| keep(&b.id));
        self.by_id = self
            .blobs
            .iter()
            .enumerate()
            .map(|(i, b)| (b.id, i))
            .collect();
    }
}

/// Builds the inventory for `selection`. Commit diffs run on `threads`
/// workers, each with a repository handle from `make_repo`; they are then
/// applied in parents-first order, so the result does not depend on timing.
pub fn build(
    repo: &gix::Repository,
    make_repo: &(dyn Fn() -> gix::Repository + Sync),
    threads: usize,
    selection: &Selection,
    all_objects: bool,
) -> Result<Inventory, Error> {
    let started = Instant::now();
    let mut w = Walker {
        repo,
        inv: Inventory::default(),
        seen_pairs: Default::default(),
    };
    w.inv.head = head_tree(repo, &mut w.inv.skipped);

    if *selection == Selection::Staged {
        w.staged()?;
    } else {
        let (tips, hidden) = tips_and_hidden(repo, selection, &mut w.inv.skipped)?;
        let order = parents_first(repo, &tips, &hidden, &mut w.inv.skipped)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("lh-diff-{i}"))
            .build()
            .map_err(|e| Error::Read {
                action: "cannot start worker threads",
                message: e.to_string(),
            })?;
        // One differ per pool thread, so its tree cache stays warm.
        let differs: Vec<std::sync::Mutex<Differ>> = (0..pool.current_num_threads())
            .map(|_| std::sync::Mutex::new(Differ::new(make_repo())))
            .collect();
        // Diff in parallel, apply in order, a bounded chunk at a time so the
        // pending diffs of a huge history never sit in memory all at once.
        for chunk in order.commits.chunks(DIFF_CHUNK) {
            let diffs: Vec<CommitDiff> = pool.install(|| {
                chunk
                    .par_iter()
                    .with_max_len(16)
                    .map(|&(commit, parent)| {
                        crate::scan::per_thread(&differs).commit_diff(commit, parent)
                    })
                    .collect()
            });
            for (diff, &(commit, _)) in diffs.into_iter().zip(chunk) {
                w.inv.trees_read += diff.trees_read;
                w.inv.skipped.extend(diff.skipped);
                let idx = w.inv.commits.len() as u32;
                w.inv.commits.push(commit);
                for c in diff.changes {
                    w.record(c.blob, &c.path, Origin::Commit(idx), c.base);
                }
            }
        }
    }
    if all_objects {
        w.unreachable();
    }
    let mut inv = w.inv;
    inv.duration_ms = started.elapsed().as_millis() as u64;
    Ok(inv)
}

/// Commits diffed in parallel before their changes are applied in order.
const DIFF_CHUNK: usize = 2048;

/// A blob a commit brings at a path, and what the path held before.
struct Change {
    path: BString,
    blob: ObjectId,
    base: Option<ObjectId>,
}

/// One commit compared with its first parent.
#[derive(Default)]
struct CommitDiff {
    changes: Vec<Change>,
    skipped: Vec<Skipped>,
    trees_read: u64,
}

type Entries = Arc<[(EntryMode, BString, ObjectId)]>;

/// Decoded trees kept per worker: a child commit's diff usually needs the
/// trees its parent's diff just decoded.
const TREE_CACHE_ENTRIES: usize = 2048;

/// Per-worker state for commit diffs.
struct Differ {
    repo: gix::Repository,
    buf: Vec<u8>,
    trees: rustc_hash::FxHashMap<ObjectId, Entries>,
}

impl Differ {
    fn new(repo: gix::Repository) -> Differ {
        Differ {
            repo,
            buf: Vec::new(),
            trees: Default::default(),
        }
    }

    fn commit_tree(&mut self, id: ObjectId, out: &mut CommitDiff) -> Option<ObjectId> {
        let tree = self
            .repo
            .find_commit(id)
            .map_err(|e| e.to_string())
            .and_then(|c| c.tree_id().map(|t| t.detach()).map_err(|e| e.to_string()));
        match tree {
            Ok(t) => Some(t),
            Err(e) => {
                out.skipped.push(Skipped {
                    path: String::new(),
                    reason: format!("commit {id}: cannot read: {e}"),
                });
                None
            }
        }
    }

    fn commit_diff(&mut self, commit: ObjectId, parent: Option<ObjectId>) -> CommitDiff {
        let mut out = CommitDiff::default();
        let Some(tree) = self.commit_tree(commit, &mut out) else {
            return out;
        };
        let base = parent.and_then(|p| self.commit_tree(p, &mut out));
        self.diff(base, tree, &mut BString::default(), &mut out);
        out
    }

    /// The entries of a tree, from the cache or decoded.
    fn entries(
        &mut self,
        tree: ObjectId,
        prefix: &BString,
        out: &mut CommitDiff,
    ) -> Option<Entries> {
        if let Some(e) = self.trees.get(&tree) {
            return Some(e.clone());
        }
        out.trees_read += 1;
        let entries: Entries = match self.repo.objects.find_tree(&tree, &mut self.buf) {
            Ok(t) => t
                .entries
                .iter()
                .map(|e| (e.mode, e.filename.to_owned(), e.oid.to_owned()))
                .collect(),
            Err(e) => {
                out.skipped.push(Skipped {
                    path: prefix.to_string(),
                    reason: format!("tree {tree}: cannot read: {e}"),
                });
                return None;
            }
        };
        if self.trees.len() >= TREE_CACHE_ENTRIES {
            self.trees.clear();
        }
        self.trees.insert(tree, entries.clone());
        Some(entries)
    }

    /// Collects every blob of `new` at `prefix` that `old` (the parent's
    /// tree at the same path) does not hold, descending only into changed trees.
    fn diff(
        &mut self,
        old: Option<ObjectId>,
        new: ObjectId,
        prefix: &mut BString,
        out: &mut CommitDiff,
    ) {
        if old == Some(new) {
            return;
        }
        let Some(new_entries) = self.entries(new, prefix, out) else {
            return;
        };
        let old_entries = old.and_then(|o| self.entries(o, prefix, out));
        let old_entries: rustc_hash::FxHashMap<&[u8], (EntryMode, ObjectId)> = old_entries
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .map(|(m, n, o)| (n.as_slice(), (*m, *o)))
            .collect();
        let base_len = prefix.len();
        for (mode, name, oid) in new_entries.iter() {
            let before = old_entries.get(name.as_slice()).copied();
            if before.is_some_and(|(m, o)| o == *oid && m == *mode) {
                continue;
            }
            if base_len > 0 {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(name);
            if mode.is_tree() {
                let old_tree = before.filter(|(m, _)| m.is_tree()).map(|(_, o)| o);
                self.diff(old_tree, *oid, prefix, out);
            } else if mode.is_blob() {
                let base = before.filter(|(m, _)| m.is_blob()).map(|(_, o)| o);
                out.changes.push(Change {
                    path: prefix.clone(),
                    blob: *oid,
                    base,
                });
            }
            // Symlinks hold a path, gitlinks (submodules) a commit of another
            // repository: neither is content of this one.
            prefix.truncate(base_len);
        }
    }
}

struct Walker<'r> {
    repo: &'r gix::Repository,
    inv: Inventory,
    seen_pairs: rustc_hash::FxHashSet<(ObjectId, u64)>,
}

fn path_key(path: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(path)
}

impl Walker<'_> {
    fn skip(&mut self, path: String, reason: String) {
        tracing::warn!(path = %path, "skipped: {reason}");
        self.inv.skipped.push(Skipped { path, reason });
    }

    /// Records a blob at a path, unless that pair was recorded before.
    fn record(&mut self, id: ObjectId, path: &[u8], origin: Origin, base: Option<ObjectId>) {
        if !self.seen_pairs.insert((id, path_key(path))) {
            return;
        }
        let blobs = &mut self.inv.blobs;
        let i = *self.inv.by_id.entry(id).or_insert_with(|| {
            blobs.push(BlobEntry {
                id,
                base,
                appearances: Vec::new(),
            });
            blobs.len() - 1
        });
        self.inv.blobs[i].appearances.push(Appearance {
            path: path.into(),
            origin,
        });
    }

    /// Index entries that differ from HEAD.
    fn staged(&mut self) -> Result<(), Error> {
        let index = self.repo.open_index().map_err(|e| Error::Read {
            action: "cannot read the index",
            message: e.to_string(),
        })?;
        for entry in index.entries() {
            let path = entry.path(&index);
            if entry.stage_raw() != 0
                || !entry.mode.is_submodule() && self.inv.head.get(path) == Some(&entry.id)
            {
                continue;
            }
            if entry.mode.is_submodule() || entry.mode == gix::index::entry::Mode::SYMLINK {
                continue;
            }
            let base = self.inv.head.get(path).copied();
            self.record(entry.id, path, Origin::Staged, base);
        }
        Ok(())
    }

    /// Blobs in the object database that nothing above reached.
    fn unreachable(&mut self) {
        let ids = match self.repo.objects.iter() {
            Ok(iter) => iter,
            Err(e) => {
                return self.skip(
                    String::new(),
                    format!("cannot list the object database: {e}"),
                )
            }
        };
        let mut seen: HashSet<ObjectId> = HashSet::new();
        for id in ids {
            let id = match id {
                Ok(id) => id,
                Err(e) => {
                    self.skip(String::new(), format!("object database: {e}"));
                    continue;
                }
            };
            if self.inv.by_id.contains_key(&id) || !seen.insert(id) {
                continue;
            }
            match self.repo.find_header(id) {
                Ok(h) if h.kind() == gix::object::Kind::Blob => {
                    self.record(id, b"", Origin::Unreachable, None)
                }
                Ok(_) => {}
                Err(e) => self.skip(String::new(), format!("object {id}: {e}")),
            }
        }
    }
}

/// Path → blob for every blob in HEAD's tree.
fn head_tree(repo: &gix::Repository, skipped: &mut Vec<Skipped>) -> HashMap<BString, ObjectId> {
    let mut out = HashMap::new();
    let Ok(tree) = repo.head_tree_id() else {
        return out;
    };
    let mut stack = vec![(tree.detach(), BString::default())];
    let mut buf = Vec::new();
    while let Some((tree, prefix)) = stack.pop() {
        match repo.objects.find_tree(&tree, &mut buf) {
            Ok(t) => {
                for e in &t.entries {
                    let mut path = prefix.clone();
                    if !path.is_empty() {
                        path.push(b'/');
                    }
                    path.extend_from_slice(e.filename);
                    if e.mode.is_tree() {
                        stack.push((e.oid.to_owned(), path));
                    } else if e.mode.is_blob() {
                        out.insert(path, e.oid.to_owned());
                    }
                }
            }
            Err(e) => skipped.push(Skipped {
                path: prefix.to_string(),
                reason: format!("HEAD tree {tree}: {e}"),
            }),
        }
    }
    out
}

/// The commits to start from and the ones whose history is excluded.
fn tips_and_hidden(
    repo: &gix::Repository,
    selection: &Selection,
    skipped: &mut Vec<Skipped>,
) -> Result<(Vec<ObjectId>, Vec<ObjectId>), Error> {
    let resolve = |spec: &str| -> Result<ObjectId, Error> {
        let id = repo.rev_parse_single(spec).map_err(|e| Error::Revision {
            spec: spec.to_string(),
            message: e.to_string(),
        })?;
        let commit = id
            .object()
            .and_then(|o| o.peel_to_kind(gix::object::Kind::Commit))
            .map_err(|e| Error::Revision {
                spec: spec.to_string(),
                message: e.to_string(),
            })?;
        Ok(commit.id)
    };
    Ok(match selection {
        Selection::AllRefs => (all_ref_tips(repo, skipped)?, Vec::new()),
        Selection::Branch(r) => (vec![resolve(r)?], Vec::new()),
        Selection::Since(r) => (all_ref_tips(repo, skipped)?, vec![resolve(r)?]),
        Selection::Range(a, b) => (vec![resolve(b)?], vec![resolve(a)?]),
        Selection::Staged => (Vec::new(), Vec::new()),
    })
}

/// Every commit a ref (or a detached HEAD) points to, tags peeled.
pub(super) fn all_ref_tips(
    repo: &gix::Repository,
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<ObjectId>, Error> {
    let refs = repo.references().map_err(|e| Error::Read {
        action: "cannot list refs",
        message: e.to_string(),
    })?;
    let iter = refs.all().map_err(|e| Error::Read {
        action: "cannot list refs",
        message: e.to_string(),
    })?;
    let mut tips = Vec::new();
    for r in iter {
        let mut r = match r {
            Ok(r) => r,
            Err(e) => {
                skipped.push(Skipped {
                    path: String::new(),
                    reason: format!("unreadable ref: {e}"),
                });
                continue;
            }
        };
        let name = r.name().as_bstr().to_string();
        match r.peel_to_id() {
            Ok(id) => match repo.find_header(id.detach()) {
                Ok(h) if h.kind() == gix::object::Kind::Commit => tips.push(id.detach()),
                Ok(h) => skipped.push(Skipped {
                    path: name,
                    reason: format!("ref points to a {}, not a commit", h.kind()),
                }),
                Err(e) => skipped.push(Skipped {
                    path: name,
                    reason: format!("ref target unreadable: {e}"),
                }),
            },
            Err(e) => skipped.push(Skipped {
                path: name,
                reason: format!("cannot peel ref: {e}"),
            }),
        }
    }
    if let Ok(head) = repo.head_id() {
        tips.push(head.detach());
    }
    tips.sort();
    tips.dedup();
    Ok(tips)
}

struct Order {
    /// Selected commits, every parent before its children, each with the
    /// first parent its tree is compared with (hidden-side parents included,
    /// so a range scan sees only what the range introduced).
    commits: Vec<(ObjectId, Option<ObjectId>)>,
}

/// Walks from `tips`, excluding what `hidden` reaches, and orders the
/// commits parents-first (a depth-first post-order).
fn parents_first(
    repo: &gix::Repository,
    tips: &[ObjectId],
    hidden: &[ObjectId],
    skipped: &mut Vec<Skipped>,
) -> Result<Order, Error> {
    if tips.is_empty() {
        return Ok(Order {
            commits: Vec::new(),
        });
    }
    let walk = repo
        .rev_walk(tips.iter().copied())
        .with_hidden(hidden.iter().copied())
        .all()
        .map_err(|e| Error::Read {
            action: "cannot walk commits",
            message: e.to_string(),
        })?;
    let mut parents: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
    let mut found = Vec::new();
    for info in walk {
        match info {
            Ok(info) => {
                found.push(info.id);
                parents.insert(info.id, info.parent_ids.iter().copied().collect());
            }
            Err(e) => {
                skipped.push(Skipped {
                    path: String::new(),
                    reason: format!("commit walk stopped early: {e}"),
                });
                break;
            }
        }
    }
    let first_parent = |id: &ObjectId| -> Option<ObjectId> {
        let p = *parents.get(id)?.first()?;
        // A parent outside the walk is either hidden (compare with it) or cut
        // off by a shallow clone (nothing to compare with).
        (parents.contains_key(&p) || !hidden.is_empty() && repo.find_header(p).is_ok()).then_some(p)
    };

    let mut done: HashSet<ObjectId> = HashSet::with_capacity(found.len());
    let mut commits = Vec::with_capacity(found.len());
    for start in found.iter().rev() {
        let mut stack = vec![(*start, false)];
        while let Some((id, expanded)) = stack.pop() {
            if expanded {
                commits.push((id, first_parent(&id)));
                continue;
            }
            if !done.insert(id) {
                continue;
            }
            stack.push((id, true));
            for p in parents.get(&id).into_iter().flatten() {
                if parents.contains_key(p) && !done.contains(p) {
                    stack.push((*p, false));
                }
            }
        }
    }
    Ok(Order { commits })
}
