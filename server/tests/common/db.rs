//! A database made for one test, removed when the test ends: a fresh SQLite file, or a fresh
//! PostgreSQL database created (and dropped) under the role `scripts/postgres.sh` makes.

use std::path::PathBuf;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The server role PostgreSQL tests connect with (made by scripts/postgres.sh).
pub fn pg_admin_url() -> String {
    std::env::var("FLEETGATE_TEST_PG_URL").unwrap_or_else(|_| {
        "postgres://fleetgate_test:fleetgate_test@127.0.0.1:5432/postgres".to_owned()
    })
}

/// A database made for one test, removed when the test ends.
pub struct TestDb {
    pub url: String,
    backend: Backend,
    name: String,
    /// Removed with the database: the SQLite file and the app's data directory live here.
    pub dir: PathBuf,
}

impl TestDb {
    pub async fn create(backend: Backend) -> TestDb {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("fleetgate-test-{id}"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let name = format!("fg_test_{id}");
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
            Backend::Postgres => {
                let admin = sea_orm::Database::connect(pg_admin_url())
                    .await
                    .expect("PostgreSQL must be running (scripts/postgres.sh starts it)");
                use sea_orm::ConnectionTrait;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                pg_admin_url().replace("/postgres", &format!("/{name}"))
            }
        };
        TestDb {
            url,
            backend,
            name,
            dir,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Backend::Postgres = self.backend {
            let name = self.name.clone();
            // Drop is synchronous: run the async clean-up on a runtime of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async move {
                    use sea_orm::ConnectionTrait;
                    let admin = sea_orm::Database::connect(pg_admin_url()).await?;
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await?;
                    admin.close().await
                })
                .map_err(std::io::Error::other)
            })
            .join();
        }
    }
}
