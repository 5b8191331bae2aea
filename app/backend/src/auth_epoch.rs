//! The authentication epoch of a SQLite database: a value that every process serving the
//! database reads without asking the database, and that changes whenever a write commits that
//! could change what authenticating a request reads — a session revoked, a user deactivated or
//! renamed, an organisation suspended, a grant or a membership changed, a support notice raised
//! or dismissed.
//!
//! Why: authenticating a request reads its session, user and organisation (`session`). On
//! SQLite that read is a hand-off to the connection's worker thread and back, the largest part
//! of a cheap request's cost. `session_cache` keeps what it read, tagged with the epoch it saw
//! *before* reading, and uses it only while the epoch is still that value.
//!
//! How a change reaches other instances: the epoch is the first 8 bytes of a file beside the
//! database (`<database>-auth-epoch`, as SQLite keeps its `-wal` and `-shm` there), so every
//! process that opens the database — they share its file system, which SQLite requires — reads
//! the same bytes. A write that may change authentication puts a fresh random value there after
//! its commit and before its answer is sent ([`crate::audit::AuditedTxn::commit`]: every write
//! but the independent ones, which only touch fleet records); a request reads it (one `pread`:
//! no lock, no database) before it uses anything cached. So once a sign-out has returned, every
//! request that starts after it, on any instance, finds the epoch changed and reads the database.
//!
//! Random rather than a counter: two instances bumping at once could both write "n + 1", and an
//! entry cached between their two commits would survive the second. A read that races a write
//! and sees its 8 bytes half written yields a value nobody cached: a miss, never a stale hit.
//!
//! PostgreSQL's instances may run on different machines and share no file: there is no epoch,
//! and every request reads its session from the database.

use sea_orm::{DatabaseBackend, DatabaseConnection};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// The shared epoch of one SQLite database file.
#[derive(Debug)]
pub struct Epoch {
    file: File,
}

impl Epoch {
    /// Opens (or creates, readable by this user only) the epoch file of the database at
    /// `database`, which must be the database file's real path.
    pub fn open(database: &Path) -> std::io::Result<Epoch> {
        let mut name = database.as_os_str().to_owned();
        name.push("-auth-epoch");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(PathBuf::from(name))?;
        let epoch = Epoch { file };
        // A new file has no value yet, and nothing may be cached against "no value".
        if epoch.read().is_none() {
            epoch.bump();
        }
        Ok(epoch)
    }

    /// The current value; `None` when it cannot be read (then nothing is taken from a cache).
    pub fn read(&self) -> Option<u64> {
        let mut bytes = [0u8; 8];
        self.file.read_exact_at(&mut bytes, 0).ok()?;
        Some(u64::from_le_bytes(bytes))
    }

    /// Puts a fresh value in place: whatever any process cached before is no longer used.
    pub fn bump(&self) {
        let value: u64 = rand::random();
        if let Err(error) = self.file.write_all_at(&value.to_le_bytes(), 0) {
            // The write it follows has committed. Leave no value at all, so that no process
            // uses a kept row until a later change writes one again.
            let emptied = self.file.set_len(0);
            tracing::error!(
                %error,
                emptied = emptied.is_ok(),
                "the authentication epoch could not be changed"
            );
        }
    }
}

/// The epoch of the database `db` is connected to; `None` on PostgreSQL and for an in-memory
/// SQLite database (which no other process can open). One open file per database per process,
/// shared by every caller. An error (the file cannot be opened) is not remembered: the next
/// caller tries again, and meanwhile nothing may be kept nor written as if it had an epoch —
/// the server refuses to start, and a serial write to fail, without one (fail closed).
pub fn of(db: &DatabaseConnection) -> std::io::Result<Option<Arc<Epoch>>> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(None);
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let spelled = options.get_filename();
    static OPEN: OnceLock<Mutex<HashMap<PathBuf, Option<Arc<Epoch>>>>> = OnceLock::new();
    let mut open = OPEN
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = open.get(spelled) {
        return Ok(known.clone());
    }
    let epoch = open_beside(spelled)?;
    open.insert(spelled.to_owned(), epoch.clone());
    Ok(epoch)
}

/// Changes the epoch of `db`'s database, if it has one: for a write that changed what
/// authentication reads outside an audited transaction (the `create-admin` command).
pub fn changed(db: &DatabaseConnection) -> std::io::Result<()> {
    if let Some(epoch) = of(db)? {
        epoch.bump();
    }
    Ok(())
}

/// The epoch beside the database's real file (symbolic links resolved, so that instances naming
/// the database by different paths share one epoch).
fn open_beside(spelled: &Path) -> std::io::Result<Option<Arc<Epoch>>> {
    let real = match std::fs::canonicalize(spelled) {
        Ok(real) => real,
        // No file once connected: an in-memory database.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(Arc::new(Epoch::open(&real)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = dir.path().join("fleetgate.db");
        std::fs::write(&db, b"").expect("the database file");
        (dir, db)
    }

    /// Two processes are two opens of the same file: what one bumps, the other reads.
    #[test]
    fn a_bump_by_one_opener_is_read_by_the_other() {
        let (_dir, db) = database();
        let (one, other) = (Epoch::open(&db).unwrap(), Epoch::open(&db).unwrap());
        let before = other.read().expect("a value from the start");
        assert_eq!(one.read(), Some(before), "both read one value");
        one.bump();
        let after = other.read().expect("a value");
        assert_ne!(after, before, "the other opener sees the change");
        assert_eq!(one.read(), Some(after));
    }

    /// Opening again (another instance starting) keeps the value: it invalidates nothing.
    #[test]
    fn opening_again_keeps_the_value() {
        let (_dir, db) = database();
        let first = Epoch::open(&db).unwrap();
        let value = first.read();
        let _second = Epoch::open(&db).unwrap();
        assert_eq!(first.read(), value);
    }

    /// No two bumps leave the same value (a counter bumped by two instances at once would).
    #[test]
    fn every_bump_leaves_a_new_value() {
        let (_dir, db) = database();
        let epoch = Epoch::open(&db).unwrap();
        let mut seen = std::collections::HashSet::new();
        assert!(seen.insert(epoch.read().unwrap()));
        for _ in 0..1_000 {
            epoch.bump();
            assert!(seen.insert(epoch.read().unwrap()), "a value repeated");
        }
    }

    /// The file is the owner's alone, like the database's key file.
    #[test]
    fn the_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, db) = database();
        Epoch::open(&db).unwrap();
        let mut name = db.into_os_string();
        name.push("-auth-epoch");
        let mode = std::fs::metadata(name).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    /// A file that cannot be read is no value: nothing may be taken from a cache.
    #[test]
    fn an_unreadable_epoch_is_no_value() {
        let (_dir, db) = database();
        let epoch = Epoch::open(&db).unwrap();
        let mut name = db.into_os_string();
        name.push("-auth-epoch");
        std::fs::write(PathBuf::from(name), b"").unwrap();
        assert_eq!(epoch.read(), None);
    }

    /// No epoch file, no serial write: a write that could not change the epoch after its
    /// commit is refused before it opens anything, and the cause is not remembered. An
    /// in-memory database, which no other process can open, has no epoch and needs none.
    #[tokio::test]
    async fn without_its_epoch_a_serial_write_is_refused() {
        let (_dir, db) = database();
        let mut name = db.clone().into_os_string();
        name.push("-auth-epoch");
        std::fs::create_dir(PathBuf::from(&name)).unwrap();
        let url = format!("sqlite://{}?mode=rwc", db.display());
        let conn = sea_orm::Database::connect(&url).await.unwrap();
        assert!(of(&conn).is_err());
        assert!(crate::audit::begin(&conn).await.is_err());
        assert!(
            crate::audit::begin_with(&conn, crate::audit::Isolation::Independent)
                .await
                .is_ok(),
            "a write of fleet records changes nothing authentication reads"
        );
        std::fs::remove_dir(PathBuf::from(&name)).unwrap();
        assert!(of(&conn).unwrap().is_some(), "tried again, and found");
        assert!(crate::audit::begin(&conn).await.is_ok());

        let memory = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        assert!(of(&memory).unwrap().is_none());
    }

    /// A write of who may do what changes the epoch when it commits; the workers' bookkeeping
    /// (`audit::serially`: mail and webhook claims, every second with a webhook) does not.
    #[tokio::test]
    async fn audited_writes_change_it_and_bookkeeping_does_not() {
        let (_dir, db) = database();
        let url = format!("sqlite://{}?mode=rwc", db.display());
        let conn = sea_orm::Database::connect(&url).await.unwrap();
        let epoch = of(&conn)
            .unwrap()
            .expect("a file-backed database has an epoch");
        let before = epoch.read();
        crate::audit::serially(&conn, async |_| Ok(()))
            .await
            .unwrap();
        assert_eq!(epoch.read(), before, "bookkeeping leaves it alone");
        crate::audit::begin(&conn)
            .await
            .unwrap()
            .commit_unaudited()
            .await
            .unwrap();
        assert_ne!(epoch.read(), before, "a serial write changes it");
    }
}
