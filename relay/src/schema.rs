//! The SQLite store's schema: numbered migrations, applied in order at start.
//!
//! The schema's version is SQLite's `PRAGMA user_version`: 0 for a new (or a
//! pre-versioning) database, then the number of the last migration applied. Each
//! migration is a frozen SQL file (`schema/vN.sql`), run once, in its own
//! transaction together with the version bump, so a crash or a failing statement
//! leaves the database at the previous version, never half-way.
//!
//! A relay refuses a database whose version is above the migrations it knows: an
//! older binary cannot know what a newer one changed, and guessing could corrupt it.
//!
//! To change the schema, add the next `schema/vN.sql` to [`MIGRATIONS`] and never edit
//! a file already listed: data directories in the field were made by exactly those.
//! A change in what the stored values mean is a migration too, even without a table
//! change (v2: the status `'paused'`), so that an older relay refuses the database.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// The migrations, in order: entry `i` takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[include_str!("schema/v1.sql"), include_str!("schema/v2.sql")];

/// The schema version this build writes: the number of its migrations.
pub const CURRENT: i64 = MIGRATIONS.len() as i64;

/// Why the store's schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The database is from a newer relay.
    #[error(
        "data_dir {} was written by a newer sitehook relay (schema v{found}, this build knows up to v{known}); \
         upgrade the relay or point data_dir elsewhere",
        data_dir.display()
    )]
    TooNew {
        /// The store's folder.
        data_dir: PathBuf,
        /// The version found in the database.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A migration failed; the database was left at the version before it.
    #[error(
        "data_dir {}: migrating the store from schema v{from} to v{} failed (it is left at v{from}): {source}",
        data_dir.display(), from + 1
    )]
    Migration {
        /// The store's folder.
        data_dir: PathBuf,
        /// The version the failed migration started from.
        from: i64,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// Reading the version failed.
    #[error("data_dir {}: cannot read the store's schema version: {source}", data_dir.display())]
    Sqlite {
        /// The store's folder.
        data_dir: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
}

/// The version of the database on `conn`.
pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Brings the database on `conn` (the store in `data_dir`, named in errors) up to
/// [`CURRENT`]; returns the version it found.
pub fn migrate(conn: &Connection, data_dir: &Path) -> Result<i64, SchemaError> {
    migrate_with(conn, data_dir, MIGRATIONS)
}

/// [`migrate`] with the given migrations (tests use longer lists).
fn migrate_with(
    conn: &Connection,
    data_dir: &Path,
    migrations: &[&str],
) -> Result<i64, SchemaError> {
    let sqlite = |source| SchemaError::Sqlite {
        data_dir: data_dir.to_owned(),
        source,
    };
    let known = migrations.len() as i64;
    let found = version(conn).map_err(sqlite)?;
    if found > known {
        return Err(SchemaError::TooNew {
            data_dir: data_dir.to_owned(),
            found,
            known,
        });
    }
    loop {
        // The version is read again inside the write lock: an operator command opening
        // the same store at the same moment must not apply a migration twice.
        conn.execute_batch("BEGIN IMMEDIATE").map_err(sqlite)?;
        let from = match version(conn) {
            Ok(v) if v < known => v,
            Ok(_) => {
                conn.execute_batch("COMMIT").map_err(sqlite)?;
                break;
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(sqlite(e));
            }
        };
        // `user_version` is in the database header, written by the same transaction.
        let applied = conn
            .execute_batch(migrations[from as usize])
            .and_then(|()| conn.pragma_update(None, "user_version", from + 1))
            .and_then(|()| conn.execute_batch("COMMIT"));
        if let Err(source) = applied {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(SchemaError::Migration {
                data_dir: data_dir.to_owned(),
                from,
                source,
            });
        }
        if from > 0 {
            tracing::info!(data_dir = %data_dir.display(), from, to = from + 1, "store schema migrated");
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest as _;

    fn open(dir: &Path) -> Connection {
        Connection::open(dir.join("sitehook.sqlite")).unwrap()
    }

    #[test]
    fn shipped_migrations_are_frozen() {
        // Data directories in the field were made by these exact bytes: a change here
        // must be a new migration instead. Update a digest only when adding its file.
        let frozen = [
            "12648e22794f87c1c180dd7b9baefa405919c1881042451e444efdddcb5a5afe",
            "fe0cfa97484d1c4aacc531ccedf10570fe20f1dbf9d5bf4a0593dc967b25ed9c",
        ];
        assert_eq!(
            MIGRATIONS.len(),
            frozen.len(),
            "a new migration: add its sha256 here"
        );
        for (i, (sql, want)) in MIGRATIONS.iter().zip(frozen).enumerate() {
            let got = format!("{:x}", sha2::Sha256::digest(sql.as_bytes()));
            assert_eq!(
                got,
                want,
                "schema/v{}.sql was edited: add a migration instead",
                i + 1
            );
        }
    }

    #[test]
    fn migrations_apply_in_order_once_and_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(dir.path());
        let list = [
            "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);",
            "ALTER TABLE a ADD COLUMN y TEXT NOT NULL DEFAULT 'two';",
        ];
        assert_eq!(migrate_with(&conn, dir.path(), &list[..1]).unwrap(), 0);
        assert_eq!(version(&conn).unwrap(), 1);
        // A newer build: only the second migration runs.
        assert_eq!(migrate_with(&conn, dir.path(), &list).unwrap(), 1);
        assert_eq!(migrate_with(&conn, dir.path(), &list).unwrap(), 2);
        let row: (i64, String) = conn
            .query_row("SELECT x, y FROM a", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!((version(&conn).unwrap(), row), (2, (1, "two".to_owned())));

        // A failing migration leaves the previous version and none of its changes.
        let broken = [
            list[0],
            list[1],
            "CREATE TABLE b (z); SELECT * FROM nowhere;",
        ];
        let err = migrate_with(&conn, dir.path(), &broken).unwrap_err();
        assert!(
            err.to_string()
                .contains("from schema v2 to v3 failed (it is left at v2)"),
            "{err}"
        );
        assert_eq!(version(&conn).unwrap(), 2);
        let b: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'b'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(b, 0, "the failed migration's table was rolled back");

        // An older build refuses it, naming both versions.
        let err = migrate_with(&conn, dir.path(), &list[..1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "data_dir {} was written by a newer sitehook relay (schema v2, this build knows up to v1); \
                 upgrade the relay or point data_dir elsewhere",
                dir.path().display()
            )
        );
    }
}
