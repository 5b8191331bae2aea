//! The real server, in this process, on a random port, on a [`TestDb`].

use super::client::Browser;
use super::db::TestDb;
use base64::Engine;
use server::config::{Config, Tuning};
use server::startup::Application;
use std::ops::Deref;
use std::sync::Arc;

/// A running server and a browser of its own; it stops when dropped.
pub struct Server {
    browser: Browser,
    pub state: backend::state::AppState,
    /// Shared by the servers of one test (as behind a load balancer); dropped with the last.
    pub db: Arc<TestDb>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The configuration a test server starts with (demo data, a fresh token key), and that key.
pub fn test_config(db: &TestDb) -> (Config, Vec<u8>) {
    let secret: [u8; 32] = rand::random();
    let config = Config {
        database_url: Some(db.url.clone()),
        data_dir: db.dir.join("data"),
        addr: "127.0.0.1:0".parse().expect("addr"),
        demo: true,
        // The webhook receivers the tests start listen on loopback.
        webhook_allow_private: true,
        jwt_secret: Some(base64::engine::general_purpose::STANDARD.encode(secret)),
        public_url: None,
        session_ttl_minutes: 60,
        smtp_url: None,
        mail_from: "Fleetgate <no-reply@fleetgate.invalid>".into(),
        site_root: "target/site".into(),
    };
    (config, secret.to_vec())
}

impl Server {
    pub async fn start(db: Arc<TestDb>, config: &Config, tuning: Tuning) -> Server {
        server::telemetry::init_for_tests();
        let app = Application::build(config, tuning).await.expect("build app");
        let addr = app.local_addr().expect("local addr");
        let state = app.state.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = rx.await;
        }));
        Server {
            browser: Browser::new(format!("http://{addr}")),
            state,
            db,
            shutdown: Some(tx),
        }
    }

    /// The id of a demo team, found by its unique name (tests refer to demo data by name).
    pub async fn team_id(&self, name: &str) -> i32 {
        use backend::entity::team;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let row = team::Entity::find()
            .filter(team::Column::Name.eq(name))
            .one(&self.state.db)
            .await;
        row.expect("query").expect("a demo team").id
    }
}

/// A server is called through its browser: `server.call(&dan, …)`, `server.url(…)`.
impl Deref for Server {
    type Target = Browser;

    fn deref(&self) -> &Browser {
        &self.browser
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
