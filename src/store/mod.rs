//! The state store: what earlier runs scanned and found, so a scheduled
//! rerun costs what changed since the last one and says what is new.
//!
//! One SQLite file (`--state PATH`), created on first use and migrated on
//! open (`PRAGMA user_version` is the schema version). It records, per
//! repository, the blob ids already scanned under a detector-set hash; and
//! per finding (by fingerprint) its first and last run, where it lives
//! (repository and blob), its last verification and any triage decision.
//!
//! The store holds the secrets it found, as the clone cache beside it holds
//! them in the repositories themselves: it is created readable by its owner
//! only, and `findings list` shows secrets redacted.

mod schema;

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use rusqlite::{params, Connection, OptionalExtension};

use crate::finding::{redact, Finding, Verification, VerificationStatus};

/// Errors of the state store, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed (unreadable file, not a database, disk full...).
    #[error("state store {path}: {source}")]
    Sqlite {
        /// The store file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The file was written by a newer leakhound.
    #[error("state store {path}: schema version {found} is newer than this leakhound knows ({known}); upgrade leakhound")]
    TooNew {
        /// The store file.
        path: PathBuf,
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        known: i64,
    },
    /// `findings triage` named a fingerprint the store does not hold.
    #[error("state store {path}: no finding with fingerprint {fingerprint}")]
    UnknownFinding {
        /// The store file.
        path: PathBuf,
        /// The fingerprint asked for.
        fingerprint: String,
    },
}

/// A triage decision: why a finding no longer alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Triage {
    /// Not a secret, or not a real one.
    FalsePositive,
    /// A known risk, accepted.
    Accepted,
    /// The secret was revoked; its presence in history is harmless.
    Revoked,
}

impl Triage {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Triage::FalsePositive => "false-positive",
            Triage::Accepted => "accepted",
            Triage::Revoked => "revoked",
        }
    }
}

/// What the store knows of one repository at the start of its scan.
#[derive(Debug, Default)]
pub struct RepoState {
    /// Row id.
    pub id: i64,
    /// Blob ids scanned in earlier runs under the current detector set.
    pub known_blobs: HashSet<String>,
    /// Whether blobs scanned earlier are rescanned because the detector set
    /// changed since.
    pub detectors_changed: bool,
    /// The history digest recorded by the last scan (see
    /// `GitSource::history_digest`).
    pub history: Option<String>,
}

/// A finding's standing across runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// First seen in this run.
    pub new: bool,
    /// A triage decision, if any.
    pub triage: Option<(String, String)>,
}

/// Counts for the end-of-run summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunCounts {
    /// Findings first seen in this run.
    pub new: u64,
    /// Findings seen before and present in this run.
    pub still_present: u64,
    /// Findings marked resolved by this run.
    pub resolved: u64,
}

/// One stored finding, as `findings list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredFinding {
    /// Fingerprint of (detector, secret).
    pub fingerprint: String,
    /// Detector id.
    pub detector: String,
    /// The secret, redacted.
    pub secret: String,
    /// `new` (first seen in the latest run), `open` or `resolved`.
    pub status: String,
    /// Run that first saw it.
    pub first_seen_run: i64,
    /// Run that last saw it.
    pub last_seen_run: i64,
    /// Time of the run that first saw it (RFC 3339, UTC).
    pub first_seen: String,
    /// Time of the run that last saw it.
    pub last_seen: String,
    /// Repositories it lives in.
    pub repos: Vec<String>,
    /// Last verification status.
    pub verification: String,
    /// Its detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_detail: Option<String>,
    /// Triage decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage: Option<String>,
    /// Triage note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage_note: Option<String>,
}

/// An open state store and the run in progress.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    run: i64,
    detector_set: String,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Store {
    /// Opens (creating and migrating as needed) the store at `path`.
    ///
    /// # Errors
    /// When the file cannot be opened as SQLite, or is from a newer schema.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let fresh = !path.exists();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let err = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        if fresh {
            restrict_permissions(path);
        }
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        )
        .map_err(err)?;
        schema::migrate(&conn).map_err(|e| match e {
            schema::MigrateError::Sqlite(source) => StoreError::Sqlite {
                path: path.to_path_buf(),
                source,
            },
            schema::MigrateError::TooNew(found) => StoreError::TooNew {
                path: path.to_path_buf(),
                found,
                known: schema::VERSION,
            },
        })?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            run: 0,
            detector_set: String::new(),
        })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Starts a run scanning with the detector set whose hash is
    /// `detector_set`; returns the run number.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn begin_run(&mut self, detector_set: &str) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO runs (started, detector_set) VALUES (?1, ?2)",
                params![now(), detector_set],
            )
            .map_err(self.err())?;
        self.run = self.conn.last_insert_rowid();
        self.detector_set = detector_set.to_string();
        Ok(self.run)
    }

    /// The current run number (0 before [`Store::begin_run`]).
    pub fn run(&self) -> i64 {
        self.run
    }

    /// What the store knows of repository `name`, creating it on first
    /// sight. A repository last scanned under another detector set forgets
    /// its scanned blobs (they are all scanned again).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn repo(&mut self, name: &str) -> Result<RepoState, StoreError> {
        let row: Option<(i64, Option<String>, Option<String>)> = self
            .conn
            .query_row(
                "SELECT id, detector_set, history FROM repos WHERE name = ?1",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(self.err())?;
        let (id, previous, history) = match row {
            Some(r) => r,
            None => {
                self.conn
                    .execute("INSERT INTO repos (name) VALUES (?1)", params![name])
                    .map_err(self.err())?;
                (self.conn.last_insert_rowid(), None, None)
            }
        };
        let detectors_changed = previous.as_deref().is_some_and(|p| p != self.detector_set);
        if detectors_changed {
            self.conn
                .execute("DELETE FROM scanned_blobs WHERE repo = ?1", params![id])
                .map_err(self.err())?;
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT blob FROM scanned_blobs WHERE repo = ?1")
            .map_err(self.err())?;
        let known_blobs = stmt
            .query_map(params![id], |r| r.get::<_, String>(0))
            .map_err(self.err())?
            .collect::<Result<HashSet<_>, _>>()
            .map_err(self.err())?;
        Ok(RepoState {
            id,
            known_blobs,
            detectors_changed,
            history: if detectors_changed { None } else { history },
        })
    }

    /// Records a repository whose history is unchanged since its last scan
    /// (same digest, same detectors): everything it held is still present.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_unchanged(&mut self, repo: &RepoState) -> Result<(), StoreError> {
        let run = self.run;
        let err = self.err();
        self.conn
            .execute(
                "UPDATE findings SET last_run = ?1, status = 'open', resolved_run = NULL
                 WHERE fingerprint IN (SELECT fingerprint FROM finding_blobs WHERE repo = ?2)",
                params![run, repo.id],
            )
            .map_err(&err)?;
        self.conn
            .execute(
                "UPDATE repos SET last_run = ?1 WHERE id = ?2",
                params![run, repo.id],
            )
            .map_err(&err)?;
        Ok(())
    }

    /// Records a repository's scan: `history` its digest (see
    /// `GitSource::history_digest`), `reachable` every blob its history
    /// holds now (scanned in this run or before), `findings` what this run
    /// found in the blobs it scanned. Blobs no longer reachable are
    /// forgotten; every finding living in a reachable blob is marked seen in
    /// this run. Returns the standing of each finding, in order.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_repo(
        &mut self,
        repo: &RepoState,
        history: Option<&str>,
        reachable: &HashSet<String>,
        findings: &[Finding],
    ) -> Result<Vec<Standing>, StoreError> {
        let run = self.run;
        let tx = self
            .conn
            .transaction()
            .map_err(|source| StoreError::Sqlite {
                path: self.path.clone(),
                source,
            })?;
        let err = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        {
            // Blobs: add the new ones, forget the ones history lost.
            let mut add = tx
                .prepare_cached("INSERT OR IGNORE INTO scanned_blobs (repo, blob) VALUES (?1, ?2)")
                .map_err(err)?;
            for blob in reachable.difference(&repo.known_blobs) {
                add.execute(params![repo.id, blob]).map_err(err)?;
            }
            let mut drop_blob = tx
                .prepare_cached("DELETE FROM scanned_blobs WHERE repo = ?1 AND blob = ?2")
                .map_err(err)?;
            let mut drop_link = tx
                .prepare_cached("DELETE FROM finding_blobs WHERE repo = ?1 AND blob = ?2")
                .map_err(err)?;
            for blob in repo.known_blobs.difference(reachable) {
                drop_blob.execute(params![repo.id, blob]).map_err(err)?;
                drop_link.execute(params![repo.id, blob]).map_err(err)?;
            }
        }
        let mut standings = Vec::with_capacity(findings.len());
        {
            let mut get = tx
                .prepare_cached(
                    "SELECT first_run, triage, triage_note FROM findings WHERE fingerprint = ?1",
                )
                .map_err(err)?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO findings (fingerprint, detector, secret, first_run, last_run, status)
                     VALUES (?1, ?2, ?3, ?4, ?4, 'open')",
                )
                .map_err(err)?;
            let mut link = tx
                .prepare_cached("INSERT OR IGNORE INTO finding_blobs (fingerprint, repo, blob) VALUES (?1, ?2, ?3)")
                .map_err(err)?;
            let mut link_repo = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO finding_repos (fingerprint, repo) VALUES (?1, ?2)",
                )
                .map_err(err)?;
            for f in findings {
                let existing: Option<(i64, Option<String>, Option<String>)> = get
                    .query_row(params![f.fingerprint], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .optional()
                    .map_err(err)?;
                let standing = match existing {
                    Some((first, triage, note)) => Standing {
                        new: first == run,
                        triage: triage.map(|t| (t, note.unwrap_or_default())),
                    },
                    None => {
                        insert
                            .execute(params![f.fingerprint, f.detector.as_str(), f.secret, run])
                            .map_err(err)?;
                        Standing {
                            new: true,
                            triage: None,
                        }
                    }
                };
                standings.push(standing);
                link_repo
                    .execute(params![f.fingerprint, repo.id])
                    .map_err(err)?;
                for blob in blobs_of(f) {
                    link.execute(params![f.fingerprint, repo.id, blob])
                        .map_err(err)?;
                }
            }
        }
        // Everything still living in a reachable blob of this repository is
        // present in this run, found anew or not.
        tx.execute(
            "UPDATE findings SET last_run = ?1, status = 'open', resolved_run = NULL
             WHERE fingerprint IN (SELECT fingerprint FROM finding_blobs WHERE repo = ?2)",
            params![run, repo.id],
        )
        .map_err(err)?;
        tx.execute(
            "UPDATE repos SET detector_set = ?1, last_run = ?2, history = ?3 WHERE id = ?4",
            params![self.detector_set, run, history, repo.id],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(standings)
    }

    /// Ends the run: findings not seen in it, whose every repository was
    /// scanned in it, are resolved. Returns the run's counts.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn finish_run(&mut self) -> Result<RunCounts, StoreError> {
        let run = self.run;
        let err = self.err();
        let resolved = self
            .conn
            .execute(
                "UPDATE findings SET status = 'resolved', resolved_run = ?1
                 WHERE status = 'open' AND last_run < ?1
                   AND NOT EXISTS (SELECT 1 FROM finding_repos fr JOIN repos r ON r.id = fr.repo
                                   WHERE fr.fingerprint = findings.fingerprint
                                     AND COALESCE(r.last_run, 0) < ?1)",
                params![run],
            )
            .map_err(&err)? as u64;
        let count = |sql: &str| -> Result<u64, StoreError> {
            self.conn
                .query_row(sql, params![run], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(&err)
        };
        let counts = RunCounts {
            new: count("SELECT COUNT(*) FROM findings WHERE first_run = ?1")?,
            still_present: count(
                "SELECT COUNT(*) FROM findings WHERE last_run = ?1 AND first_run < ?1",
            )?,
            resolved,
        };
        self.conn
            .execute(
                "UPDATE runs SET finished = ?1, new = ?2, still_present = ?3, resolved = ?4 WHERE id = ?5",
                params![now(), counts.new as i64, counts.still_present as i64, counts.resolved as i64, run],
            )
            .map_err(&err)?;
        Ok(counts)
    }

    /// A stored verification of `fingerprint` no older than `max_age_secs`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn recent_verification(
        &self,
        fingerprint: &str,
        max_age_secs: i64,
    ) -> Result<Option<Verification>, StoreError> {
        let row: Option<(Option<String>, Option<String>, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT verification, verification_detail, verified_at FROM findings WHERE fingerprint = ?1",
                params![fingerprint],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(self.err())?;
        let Some((Some(status), detail, Some(at))) = row else {
            return Ok(None);
        };
        if now() - at > max_age_secs {
            return Ok(None);
        }
        Ok(VerificationStatus::parse(&status).map(|status| Verification { status, detail }))
    }

    /// Stores the verification outcome of a finding, timestamped now.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_verification(&self, f: &Finding) -> Result<(), StoreError> {
        if f.verification.status == VerificationStatus::NotChecked {
            return Ok(());
        }
        self.conn
            .execute(
                "UPDATE findings SET verification = ?1, verification_detail = ?2, verified_at = ?3
                 WHERE fingerprint = ?4",
                params![
                    f.verification.status.as_str(),
                    f.verification.detail,
                    now(),
                    f.fingerprint
                ],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Records a triage decision; later runs report the finding suppressed.
    ///
    /// # Errors
    /// An unknown fingerprint, or SQLite errors.
    pub fn triage(&self, fingerprint: &str, triage: Triage, note: &str) -> Result<(), StoreError> {
        let n = self
            .conn
            .execute(
                "UPDATE findings SET triage = ?1, triage_note = ?2, triaged_at = ?3 WHERE fingerprint = ?4",
                params![triage.as_str(), note, now(), fingerprint],
            )
            .map_err(self.err())?;
        if n == 0 {
            return Err(StoreError::UnknownFinding {
                path: self.path.clone(),
                fingerprint: fingerprint.to_string(),
            });
        }
        Ok(())
    }

    /// Every stored finding, newest first; `status` filters by `new` (first
    /// seen in the latest run), `open` (not resolved, new included) or
    /// `resolved`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn list(&self, status: Option<&str>) -> Result<Vec<StoredFinding>, StoreError> {
        let latest: i64 = self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM runs", [], |r| r.get(0))
            .map_err(self.err())?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT f.fingerprint, f.detector, f.secret, f.status, f.first_run, f.last_run,
                        COALESCE(a.started, 0), COALESCE(b.started, 0),
                        f.verification, f.verification_detail, f.triage, f.triage_note,
                        (SELECT group_concat(r.name, char(10)) FROM finding_repos fr
                           JOIN repos r ON r.id = fr.repo WHERE fr.fingerprint = f.fingerprint)
                 FROM findings f
                 LEFT JOIN runs a ON a.id = f.first_run
                 LEFT JOIN runs b ON b.id = f.last_run
                 ORDER BY f.first_run DESC, f.detector, f.fingerprint",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                let first: i64 = r.get(4)?;
                let stored: String = r.get(3)?;
                let secret: String = r.get(2)?;
                let repos: Option<String> = r.get(12)?;
                Ok(StoredFinding {
                    fingerprint: r.get(0)?,
                    detector: r.get(1)?,
                    secret: redact(&secret),
                    status: if stored == "open" && first == latest {
                        "new".into()
                    } else {
                        stored
                    },
                    first_seen_run: first,
                    last_seen_run: r.get(5)?,
                    first_seen: rfc3339(r.get(6)?),
                    last_seen: rfc3339(r.get(7)?),
                    repos: repos
                        .map(|s| s.lines().map(str::to_string).collect())
                        .unwrap_or_default(),
                    verification: r
                        .get::<_, Option<String>>(8)?
                        .unwrap_or_else(|| "not_checked".into()),
                    verification_detail: r.get(9)?,
                    triage: r.get(10)?,
                    triage_note: r.get(11)?,
                })
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(rows
            .into_iter()
            .filter(|f| match status {
                None => true,
                Some("open") => f.status != "resolved",
                Some(s) => f.status == s,
            })
            .collect())
    }
}

/// The blob ids a finding's git locations name.
fn blobs_of(f: &Finding) -> impl Iterator<Item = &str> {
    f.locations.iter().filter_map(|l| match l {
        crate::finding::Location::Git(g) => Some(g.blob.as_str()),
        _ => None,
    })
}

/// Seconds since the epoch as RFC 3339 UTC (empty for 0: never).
fn rfc3339(secs: i64) -> String {
    if secs == 0 {
        return String::new();
    }
    gix::date::Time::new(secs, 0)
        .format(gix::date::time::format::ISO8601_STRICT)
        .unwrap_or_default()
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict_permissions(_: &Path) {}
