//! Phase 1 of a git scan: which blobs to read, and where each appears.
//!
//! Commits are walked parents-first, and each commit's tree is traversed
//! skipping every (tree, path) already traversed: an unchanged directory is
//! never decoded twice. The first commit to reach a (blob, path) pair is the
//! commit that introduced that blob at that path.

use std::{
    collections::{HashMap, HashSet},
    time::Instant,
};

use gix::{bstr::BString, prelude::FindExt, ObjectId};

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
    /// Distinct trees decoded.
    pub trees_read: u64,
}

/// Builds the inventory for `selection`.
pub fn build(
    repo: &gix::Repository,
    selection: &Selection,
    all_objects: bool,
) -> Result<Inventory, Error> {
    let started = Instant::now();
    let mut w = Walker {
        repo,
        inv: Inventory::default(),
        seen_trees: HashSet::new(),
        seen_pairs: HashSet::new(),
        buf: Vec::new(),
    };
    w.inv.head = head_tree(repo, &mut w.inv.skipped);

    if *selection == Selection::Staged {
        w.staged()?;
    } else {
        let (tips, hidden) = tips_and_hidden(repo, selection, &mut w.inv.skipped)?;
        let order = parents_first(repo, &tips, &hidden, &mut w.inv.skipped)?;
        // Trees of excluded parents are already known: mark, don't record.
        for boundary in &order.boundary {
            if let Some(tree) = w.commit_tree(boundary) {
                w.traverse(tree, &mut BString::default(), None);
            }
        }
        for id in order.commits {
            let Some(tree) = w.commit_tree(&id) else {
                continue;
            };
            let idx = w.inv.commits.len() as u32;
            w.inv.commits.push(id);
            w.traverse(tree, &mut BString::default(), Some(Origin::Commit(idx)));
        }
    }
    if all_objects {
        w.unreachable();
    }
    let mut inv = w.inv;
    inv.duration_ms = started.elapsed().as_millis() as u64;
    Ok(inv)
}

struct Walker<'r> {
    repo: &'r gix::Repository,
    inv: Inventory,
    seen_trees: HashSet<(ObjectId, u64)>,
    seen_pairs: HashSet<(ObjectId, u64)>,
    buf: Vec<u8>,
}

fn path_key(path: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(path)
}

impl Walker<'_> {
    fn skip(&mut self, path: String, reason: String) {
        tracing::warn!(path = %path, "skipped: {reason}");
        self.inv.skipped.push(Skipped { path, reason });
    }

    fn commit_tree(&mut self, id: &ObjectId) -> Option<ObjectId> {
        match self
            .repo
            .find_commit(*id)
            .map_err(|e| e.to_string())
            .and_then(|c| c.tree_id().map(|t| t.detach()).map_err(|e| e.to_string()))
        {
            Ok(t) => Some(t),
            Err(e) => {
                self.skip(String::new(), format!("commit {id}: cannot read: {e}"));
                None
            }
        }
    }

    /// Records a blob at a path; `origin == None` only marks it as known.
    fn record(&mut self, id: ObjectId, path: &[u8], origin: Option<Origin>) {
        if !self.seen_pairs.insert((id, path_key(path))) {
            return;
        }
        let Some(origin) = origin else { return };
        let blobs = &mut self.inv.blobs;
        let i = *self.inv.by_id.entry(id).or_insert_with(|| {
            blobs.push(BlobEntry {
                id,
                appearances: Vec::new(),
            });
            blobs.len() - 1
        });
        self.inv.blobs[i].appearances.push(Appearance {
            path: path.into(),
            origin,
        });
    }

    /// Visits `tree` at `prefix`, unless that (tree, path) was visited before.
    fn traverse(&mut self, tree: ObjectId, prefix: &mut BString, origin: Option<Origin>) {
        if !self.seen_trees.insert((tree, path_key(prefix))) {
            return;
        }
        self.inv.trees_read += 1;
        let entries: Vec<(gix::objs::tree::EntryMode, BString, ObjectId)> =
            match self.repo.objects.find_tree(&tree, &mut self.buf) {
                Ok(t) => t
                    .entries
                    .iter()
                    .map(|e| (e.mode, e.filename.to_owned(), e.oid.to_owned()))
                    .collect(),
                Err(e) => {
                    let path = prefix.to_string();
                    self.skip(path, format!("tree {tree}: cannot read: {e}"));
                    return;
                }
            };
        let base = prefix.len();
        for (mode, name, oid) in entries {
            if base > 0 {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(&name);
            if mode.is_tree() {
                self.traverse(oid, prefix, origin);
            } else if mode.is_blob() {
                self.record(oid, prefix, origin);
            }
            // Symlinks hold a path, gitlinks (submodules) a commit of another
            // repository: neither is content of this one.
            prefix.truncate(base);
        }
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
            self.record(entry.id, path, Some(Origin::Staged));
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
                    self.seen_pairs.remove(&(id, path_key(b"")));
                    self.record(id, b"", Some(Origin::Unreachable));
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
            .and_then(|o| {
                o.peel_to_kind(gix::object::Kind::Commit)
                    .map_err(Into::into)
            })
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
fn all_ref_tips(
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
    /// Selected commits, every parent before its children.
    commits: Vec<ObjectId>,
    /// Parents of selected commits that are not selected (hidden side).
    boundary: Vec<ObjectId>,
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
            boundary: Vec::new(),
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
    let mut boundary: Vec<ObjectId> = parents
        .values()
        .flatten()
        .filter(|p| !parents.contains_key(*p))
        .copied()
        .collect();
    boundary.sort();
    boundary.dedup();
    if hidden.is_empty() {
        // Parents missing from a full walk are shallow-clone cut-offs, not history to exclude.
        boundary.clear();
    }

    let mut done: HashSet<ObjectId> = HashSet::with_capacity(found.len());
    let mut commits = Vec::with_capacity(found.len());
    for start in found.iter().rev() {
        let mut stack = vec![(*start, false)];
        while let Some((id, expanded)) = stack.pop() {
            if expanded {
                commits.push(id);
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
    Ok(Order { commits, boundary })
}
