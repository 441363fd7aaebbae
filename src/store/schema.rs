//! The store's schema and its migrations. `PRAGMA user_version` holds the
//! version; each migration moves one version up inside a transaction, so a
//! store written by any earlier leakhound opens, and one from a newer
//! leakhound is refused rather than damaged.

use rusqlite::Connection;

/// The newest schema version.
pub const VERSION: i64 = 2;

/// Why a store could not be brought up to date.
#[derive(Debug)]
pub enum MigrateError {
    /// SQLite failed.
    Sqlite(rusqlite::Error),
    /// The file's version is newer than [`VERSION`].
    TooNew(i64),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sqlite(e)
    }
}

/// Migrations by the version they produce (index 0 makes version 1).
const MIGRATIONS: &[&str] = &[
    // 1: runs, repositories, scanned blobs, findings and where they live.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started INTEGER NOT NULL,
        finished INTEGER,
        detector_set TEXT NOT NULL,
        new INTEGER,
        still_present INTEGER,
        resolved INTEGER
    );
    CREATE TABLE repos (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        detector_set TEXT,
        last_run INTEGER
    );
    CREATE TABLE scanned_blobs (
        repo INTEGER NOT NULL REFERENCES repos(id),
        blob TEXT NOT NULL,
        PRIMARY KEY (repo, blob)
    ) WITHOUT ROWID;
    CREATE TABLE findings (
        fingerprint TEXT PRIMARY KEY,
        detector TEXT NOT NULL,
        secret TEXT NOT NULL,
        first_run INTEGER NOT NULL,
        last_run INTEGER NOT NULL,
        status TEXT NOT NULL,
        resolved_run INTEGER,
        verification TEXT,
        verification_detail TEXT,
        verified_at INTEGER,
        triage TEXT,
        triage_note TEXT,
        triaged_at INTEGER
    );
    CREATE TABLE finding_blobs (
        fingerprint TEXT NOT NULL REFERENCES findings(fingerprint),
        repo INTEGER NOT NULL REFERENCES repos(id),
        blob TEXT NOT NULL,
        PRIMARY KEY (fingerprint, repo, blob)
    ) WITHOUT ROWID;
    CREATE INDEX finding_blobs_by_repo ON finding_blobs (repo, blob);
    CREATE TABLE finding_repos (
        fingerprint TEXT NOT NULL REFERENCES findings(fingerprint),
        repo INTEGER NOT NULL REFERENCES repos(id),
        PRIMARY KEY (fingerprint, repo)
    ) WITHOUT ROWID;",
    // 2: a digest of each repository's refs when last scanned, so an
    // unchanged repository is not even listed again.
    "ALTER TABLE repos ADD COLUMN history TEXT;",
];

/// Brings the database at `conn` to [`VERSION`].
pub fn migrate(conn: &Connection) -> Result<(), MigrateError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Err(MigrateError::TooNew(found));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_store_is_migrated_and_a_newer_one_refused() {
        let conn = Connection::open_in_memory().expect("sqlite");
        conn.execute_batch(MIGRATIONS[0]).expect("v1");
        conn.execute_batch(
            "PRAGMA user_version = 1; INSERT INTO repos (name) VALUES ('acme/api');",
        )
        .expect("v1 data");
        migrate(&conn).expect("migrates");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, VERSION);
        let history: Option<String> = conn
            .query_row(
                "SELECT history FROM repos WHERE name = 'acme/api'",
                [],
                |r| r.get(0),
            )
            .expect("the v2 column, data kept");
        assert_eq!(history, None);

        conn.execute_batch("PRAGMA user_version = 99").expect("set");
        assert!(matches!(migrate(&conn), Err(MigrateError::TooNew(99))));
    }
}
