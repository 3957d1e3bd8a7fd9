//! Backing the database up while Headroom runs, and putting a backup back in its place.
//!
//! A backup is SQLite's `VACUUM INTO`: one read transaction, so the copy is consistent however
//! busy the app or the poller is, and compact. Keys are never in the database (see
//! `credentials`), so a backup holds none; a restored database finds them where it always did,
//! in the OS keychain or the environment variables its sources name.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode};

use super::{Store, StoreError, DB_FILE, MIGRATIONS};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; Headroom does not overwrite a file with a backup: choose another name or remove it")]
    Exists(PathBuf),
    #[error("there is no database at {0} to back up")]
    NoDatabase(PathBuf),
    #[error("{path} is not a SQLite database: {reason}")]
    NotADatabase { path: PathBuf, reason: String },
    #[error(
        "{0} is a SQLite database, but not Headroom's: it has no sources, meters and readings"
    )]
    NotHeadroom(PathBuf),
    #[error("{path} was written by a newer Headroom (schema version {found}; this one knows up to {known}); upgrade Headroom before restoring it")]
    Newer {
        path: PathBuf,
        found: usize,
        known: usize,
    },
    #[error("{path} is damaged (SQLite's check says: {detail}); it was not restored")]
    Damaged { path: PathBuf, detail: String },
    #[error("the database {0} is open in another process (the app, `headroom poll` or `headroom serve`); quit it, then restore again")]
    InUse(PathBuf),
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let path = path.to_path_buf();
    move |source| BackupError::Io {
        action,
        path,
        source,
    }
}

/// What a backup holds, as checked before it is restored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    /// How many migrations it had (`PRAGMA user_version`); at most this Headroom's.
    pub schema_version: usize,
    pub sources: usize,
    /// Raw readings and hourly rows.
    pub readings: usize,
}

/// What a restore did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    pub info: BackupInfo,
    /// Where the database it replaced was kept; `None` when there was none.
    pub previous: Option<PathBuf>,
}

impl Store {
    /// Writes a consistent, compact copy of the database to `target`, which must not exist. The
    /// copy is written beside it under another name and renamed when complete, so `target` is
    /// never a half-written backup.
    pub fn backup_to(&self, target: &Path) -> Result<(), BackupError> {
        if target.exists() {
            return Err(BackupError::Exists(target.to_path_buf()));
        }
        let mut partial = target.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let _ = std::fs::remove_file(&partial);
        let written = self
            .conn()
            .execute("VACUUM INTO ?1", [partial.to_string_lossy()]);
        if let Err(error) = written {
            let _ = std::fs::remove_file(&partial);
            return Err(error.into());
        }
        std::fs::rename(&partial, target).map_err(io("write the backup to", target))
    }
}

/// Checks that `file` is a Headroom database this Headroom can open: SQLite, intact, with
/// Headroom's tables, of this schema or an older one (which opening it upgrades).
pub fn inspect(file: &Path) -> Result<BackupInfo, BackupError> {
    let not_db = |reason: &str| BackupError::NotADatabase {
        path: file.to_path_buf(),
        reason: reason.into(),
    };
    let header = std::fs::read(file).map_err(io("read", file))?;
    if !header.starts_with(b"SQLite format 3\0") {
        return Err(not_db("it does not start with SQLite's header"));
    }
    let conn = Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| not_db(&e.to_string()))?;
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(|e| BackupError::Damaged {
            path: file.to_path_buf(),
            detail: e.to_string(),
        })?;
    if check != "ok" {
        return Err(BackupError::Damaged {
            path: file.to_path_buf(),
            detail: check,
        });
    }
    let version: usize = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let has_table = |name: &str| -> rusqlite::Result<bool> {
        conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |row| row.get::<_, i64>(0),
        )
        .map(|n| n > 0)
    };
    let headroom =
        version > 0 && has_table("sources")? && has_table("meters")? && has_table("readings")?;
    if !headroom {
        return Err(BackupError::NotHeadroom(file.to_path_buf()));
    }
    if version > MIGRATIONS.len() {
        return Err(BackupError::Newer {
            path: file.to_path_buf(),
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    let count = |table: &str| -> rusqlite::Result<usize> {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
            row.get::<_, i64>(0)
        })
        .map(|n| usize::try_from(n).unwrap_or_default())
    };
    let hourly = match has_table("readings_hourly")? {
        true => count("readings_hourly")?,
        false => 0,
    };
    Ok(BackupInfo {
        schema_version: version,
        sources: count("sources")?,
        readings: count("readings")? + hourly,
    })
}

/// Puts the backup `file` in place as the database of `data_dir`, upgraded to this schema. The
/// database it replaces is kept beside it as `headroom.sqlite.before-restore-<time>`. Refuses a
/// file that is not a Headroom database of this or an older schema, and refuses while another
/// process has the database open: swapping the file under it would leave that process writing
/// to the replaced copy, and those writes would be lost.
pub fn restore(data_dir: &Path, file: &Path, now: DateTime<Utc>) -> Result<Restored, BackupError> {
    std::fs::create_dir_all(data_dir).map_err(io("create", data_dir))?;
    // The backup is copied and checked first, so a refusal leaves the live database untouched
    // and the backup itself is never written to.
    let staging = data_dir.join("restore-staging");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(io("create", &staging))?;
    let staged = staging.join(DB_FILE);
    let result = stage_and_swap(data_dir, file, &staged, now);
    let _ = std::fs::remove_dir_all(&staging);
    result
}

fn stage_and_swap(
    data_dir: &Path,
    file: &Path,
    staged: &Path,
    now: DateTime<Utc>,
) -> Result<Restored, BackupError> {
    std::fs::copy(file, staged).map_err(io("read", file))?;
    let info = inspect(staged).map_err(|e| name_the_backup(e, staged, file))?;
    // Opening runs the migrations a backup from an older Headroom lacks.
    drop(Store::open(staged.parent().unwrap_or(data_dir))?);

    let live = data_dir.join(DB_FILE);
    let previous = match live.exists() {
        false => None,
        true => {
            refuse_if_open_elsewhere(&live)?;
            let kept = data_dir.join(format!(
                "{DB_FILE}.before-restore-{}",
                now.format("%Y%m%dT%H%M%SZ")
            ));
            std::fs::rename(&live, &kept).map_err(io("move aside", &live))?;
            // A write-ahead log belongs to the file it was written for, never to the restored one.
            for suffix in ["-wal", "-shm"] {
                let mut from = live.as_os_str().to_owned();
                from.push(suffix);
                let mut to = kept.as_os_str().to_owned();
                to.push(suffix);
                if Path::new(&from).exists() {
                    std::fs::rename(&from, &to).map_err(io("move aside", Path::new(&from)))?;
                }
            }
            Some(kept)
        }
    };
    std::fs::rename(staged, &live).map_err(io("put the backup in place at", &live))?;
    Ok(Restored { info, previous })
}

/// The checks ran on a copy; the person knows the file by the name they gave.
fn name_the_backup(error: BackupError, staged: &Path, file: &Path) -> BackupError {
    let rename = |path: PathBuf| {
        if path == staged {
            file.to_path_buf()
        } else {
            path
        }
    };
    match error {
        BackupError::NotADatabase { path, reason } => BackupError::NotADatabase {
            path: rename(path),
            reason,
        },
        BackupError::NotHeadroom(path) => BackupError::NotHeadroom(rename(path)),
        BackupError::Newer { path, found, known } => BackupError::Newer {
            path: rename(path),
            found,
            known,
        },
        BackupError::Damaged { path, detail } => BackupError::Damaged {
            path: rename(path),
            detail,
        },
        other => other,
    }
}

/// Every process that has a database in WAL mode open holds a shared lock on it until it
/// closes, so leaving WAL mode (which needs the database to itself) succeeds only when nobody
/// else has it open. The file is about to be set aside, so changing its journal mode costs
/// nothing; a file too damaged to ask is not open in a working Headroom either.
fn refuse_if_open_elsewhere(live: &Path) -> Result<(), BackupError> {
    let Ok(conn) = Connection::open(live) else {
        return Ok(());
    };
    conn.busy_timeout(std::time::Duration::from_millis(500))?;
    match conn.query_row("PRAGMA journal_mode = DELETE", [], |row| {
        row.get::<_, String>(0)
    }) {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
        {
            Err(BackupError::InUse(live.to_path_buf()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sources::tests::sample;

    #[test]
    fn a_backup_restores_in_place_of_the_database_and_keeps_the_one_it_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let backup = dir.path().join("backup.sqlite");
        {
            let store = Store::open(&data).unwrap();
            store.add_source(&sample("kept")).unwrap();
            store.backup_to(&backup).unwrap();
            let again = store.backup_to(&backup).unwrap_err();
            assert!(matches!(again, BackupError::Exists(_)), "{again}");
            store.add_source(&sample("added after")).unwrap();
        }
        let now = Utc::now();
        let restored = restore(&data, &backup, now).unwrap();
        assert_eq!(restored.info.sources, 1);
        let previous = restored.previous.expect("the replaced database is kept");
        assert!(previous
            .to_string_lossy()
            .ends_with(&format!(".before-restore-{}", now.format("%Y%m%dT%H%M%SZ"))));
        assert!(!data.join("restore-staging").exists());

        let store = Store::open(&data).unwrap();
        let names: Vec<String> = store
            .list_sources()
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["kept"]);
        drop(store);
        let kept = Connection::open(&previous).unwrap();
        let count: i64 = kept
            .query_row("SELECT COUNT(*) FROM sources", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 2, "the replaced database is whole");
    }

    #[test]
    fn an_older_schema_is_upgraded_and_anything_else_is_refused_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        Store::open(&data)
            .unwrap()
            .add_source(&sample("live"))
            .unwrap();
        let live_before = std::fs::read(data.join(DB_FILE)).unwrap();

        let old = dir.path().join("old.sqlite");
        {
            let conn = Connection::open(&old).unwrap();
            for sql in &MIGRATIONS[..4] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 4).unwrap();
        }
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a database at all").unwrap();
        let other = dir.path().join("other.sqlite");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE photos (id INTEGER);")
            .unwrap();
        let newer = dir.path().join("newer.sqlite");
        {
            let conn = Connection::open(&newer).unwrap();
            for sql in MIGRATIONS {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", MIGRATIONS.len() + 1)
                .unwrap();
        }

        for (file, words) in [
            (&text, "is not a SQLite database"),
            (&other, "not Headroom's"),
            (&newer, "newer Headroom"),
            (&dir.path().join("missing.sqlite"), "cannot read"),
        ] {
            let refused = restore(&data, file, Utc::now()).unwrap_err().to_string();
            assert!(
                refused.contains(words) && refused.contains(&*file.to_string_lossy()),
                "{refused}"
            );
        }
        assert_eq!(
            std::fs::read(data.join(DB_FILE)).unwrap(),
            live_before,
            "a refused restore leaves the database as it was"
        );

        let restored = restore(&data, &old, Utc::now()).unwrap();
        assert_eq!(restored.info.schema_version, 4);
        let store = Store::open(&data).unwrap();
        assert!(store.list_sources().unwrap().is_empty());
        let version: usize = store
            .conn()
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len(), "upgraded on the way in");
    }

    #[test]
    fn a_database_open_in_another_connection_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let backup = dir.path().join("backup.sqlite");
        let store = Store::open(&data).unwrap();
        store.add_source(&sample("live")).unwrap();
        store.backup_to(&backup).unwrap();
        let refused = restore(&data, &backup, Utc::now()).unwrap_err();
        assert!(matches!(refused, BackupError::InUse(_)), "{refused}");
        assert!(refused.to_string().contains("quit it"), "{refused}");
        assert_eq!(store.list_sources().unwrap().len(), 1, "still working");
        drop(store);
        restore(&data, &backup, Utc::now()).unwrap();
    }
}
