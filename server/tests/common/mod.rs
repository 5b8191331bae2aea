//! Test harness: the real server on a random port, against a fresh SQLite file or a fresh
//! PostgreSQL database created (and dropped) for the test, driven over real HTTP.
#![allow(dead_code)] // each test binary uses its own part of the harness

use app::error::AppError;
use backend::token::{Claims, TokenKeys};
use base64::Engine;
use reqwest::{Response, StatusCode, header};
use server::config::{Config, Tuning};
use server::startup::Application;
use std::path::PathBuf;

pub const DEMO_PASSWORD: &str = "fleetgate-demo";

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

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub keys: TokenKeys,
    pub state: backend::state::AppState,
    pub db: std::sync::Arc<TestDb>,
    config: Config,
    pub secret: Vec<u8>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

pub fn test_config(db: &TestDb) -> (Config, Vec<u8>) {
    let secret: [u8; 32] = rand::random();
    let config = Config {
        database_url: Some(db.url.clone()),
        data_dir: db.dir.join("data"),
        addr: "127.0.0.1:0".parse().expect("addr"),
        demo: true,
        jwt_secret: Some(base64::engine::general_purpose::STANDARD.encode(secret)),
        public_url: None,
        session_ttl_minutes: 60,
        site_root: "target/site".into(),
    };
    (config, secret.to_vec())
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, Tuning::default()).await
    }

    pub async fn spawn_with(backend: Backend, tuning: Tuning) -> TestApp {
        let db = TestDb::create(backend).await;
        let (config, secret) = test_config(&db);
        Self::start(db, &config, &secret, tuning).await
    }

    pub async fn start(db: TestDb, config: &Config, secret: &[u8], tuning: Tuning) -> TestApp {
        Self::start_shared(std::sync::Arc::new(db), config, secret, tuning).await
    }

    /// A second server process on the same database (as behind a load balancer).
    pub async fn sibling(&self) -> TestApp {
        self.sibling_with(Tuning::default()).await
    }

    /// The configuration this server was started with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Another server on the same database, with a configuration of the test's choosing.
    pub async fn sibling_with_config(&self, config: &Config) -> TestApp {
        Self::start_shared(self.db.clone(), config, &self.secret, Tuning::default()).await
    }

    pub async fn sibling_with(&self, tuning: Tuning) -> TestApp {
        let mut config = self.config.clone();
        config.demo = false;
        Self::start_shared(self.db.clone(), &config, &self.secret, tuning).await
    }

    async fn start_shared(
        db: std::sync::Arc<TestDb>,
        config: &Config,
        secret: &[u8],
        tuning: Tuning,
    ) -> TestApp {
        server::telemetry::init_for_tests();
        let app = Application::build(config, tuning).await.expect("build app");
        let addr = app.local_addr().expect("local addr");
        let state = app.state.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = rx.await;
        }));
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            keys: TokenKeys::from_secret(secret).expect("keys"),
            state,
            db,
            config: config.clone(),
            secret: secret.to_vec(),
            shutdown: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Calls a server function the way the browser does: a same-origin form POST.
    pub async fn call(
        &self,
        endpoint: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> Response {
        let mut req = self
            .client
            .post(self.url(&format!("/api/{endpoint}")))
            .header(header::ORIGIN, &self.base)
            .form(form);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        req.send().await.expect("request")
    }

    /// Calls a server function that takes JSON (`input = Json`).
    pub async fn call_json(
        &self,
        endpoint: &str,
        cookie: Option<&str>,
        body: &serde_json::Value,
    ) -> Response {
        let mut req = self
            .client
            .post(self.url(&format!("/api/{endpoint}")))
            .header(header::ORIGIN, &self.base)
            .json(body);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        req.send().await.expect("request")
    }

    /// The audit log page as `cookie`'s user sees it (their organisation's, or all for staff).
    pub async fn audit_page(&self, cookie: &str) -> app::model::AuditPage {
        let res = self.call("audit/list", Some(cookie), &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "the audit page");
        res.json().await.expect("an audit page")
    }

    /// Sets an organisation's standing consent to being viewed as (`allowed`, `read_only`,
    /// `never`) directly in the database, as test set-up.
    pub async fn set_consent(&self, organisation: &str, consent: &str) {
        use backend::entity::organisation as org;
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        org::Entity::update_many()
            .col_expr(org::Column::ImpersonationConsent, Expr::value(consent))
            .filter(org::Column::Name.eq(organisation))
            .exec(&self.state.db)
            .await
            .expect("set consent");
    }

    /// Signs in and returns the `name=value` of the session cookie.
    pub async fn sign_in(&self, email: &str) -> String {
        let res = self.login(email, DEMO_PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "sign-in of {email} failed");
        session_cookie(&res).expect("a session cookie")
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.call(
            "login",
            None,
            &[("email", email), ("password", password), ("next", "")],
        )
        .await
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        req.send().await.expect("request")
    }

    /// The id of a demo row, found by its unique name (tests refer to demo data by name).
    pub async fn team_id(&self, name: &str) -> i32 {
        use backend::entity::team;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let row = team::Entity::find()
            .filter(team::Column::Name.eq(name))
            .one(&self.state.db)
            .await;
        row.expect("query").expect("a demo team").id
    }

    pub async fn user_id(&self, email: &str) -> i32 {
        use backend::entity::user;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let row = user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .one(&self.state.db)
            .await;
        row.expect("query").expect("a demo user").id
    }

    pub async fn vehicle_id(&self, name: &str) -> i32 {
        use backend::entity::vehicle;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let row = vehicle::Entity::find()
            .filter(vehicle::Column::Name.eq(name))
            .one(&self.state.db)
            .await;
        row.expect("query").expect("a demo vehicle").id
    }

    pub async fn work_order_id(&self, title: &str) -> i32 {
        use backend::entity::work_order;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let row = work_order::Entity::find()
            .filter(work_order::Column::Title.eq(title))
            .one(&self.state.db)
            .await;
        row.expect("query").expect("a demo work order").id
    }

    /// The claims inside a `name=token` cookie (signature checked with the test key).
    pub fn claims_of(&self, cookie: &str) -> Claims {
        let token = cookie.split_once('=').expect("name=value").1;
        self.keys.verify(token).expect("a valid token")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The `name=value` part of the response's session `Set-Cookie`, if any.
pub fn session_cookie(res: &Response) -> Option<String> {
    set_cookie(res).map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// The full `Set-Cookie` header value for the session cookie.
pub fn set_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("fleetgate_session="))
        .map(str::to_owned)
}

/// The typed error in a failed server-function response.
pub async fn app_error(res: Response) -> AppError {
    let body = res.text().await.expect("body");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not an AppError ({e}): {body}"))
}

/// Runs one async scenario on both databases as two tests.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )+
        }
    };
}

/// The `name=value` part of the response's view-as `Set-Cookie`, if any.
pub fn view_as_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("fleetgate_view_as="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

impl TestApp {
    /// Sends the same server-function call `n` times at once (each on its own task, so they
    /// really race); each answer's status and body, in no particular order.
    pub async fn call_in_parallel(
        &self,
        n: usize,
        endpoint: &str,
        cookie: &str,
        form: &[(&str, &str)],
    ) -> Vec<(StatusCode, String)> {
        let form: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.call_each_in_parallel(endpoint, cookie, vec![form; n])
            .await
    }

    /// Sends one call of `endpoint` per form, all at once; each answer's status and body, in
    /// the order of the forms.
    pub async fn call_each_in_parallel(
        &self,
        endpoint: &str,
        cookie: &str,
        forms: Vec<Vec<(String, String)>>,
    ) -> Vec<(StatusCode, String)> {
        let calls: Vec<_> = forms
            .into_iter()
            .map(|form| {
                let req = self
                    .client
                    .post(self.url(&format!("/api/{endpoint}")))
                    .header(header::ORIGIN, &self.base)
                    .header(header::COOKIE, cookie)
                    .form(&form);
                tokio::spawn(async move {
                    let res = req.send().await.expect("request");
                    let status = res.status();
                    (status, res.text().await.expect("body"))
                })
            })
            .collect();
        let mut out = Vec::with_capacity(calls.len());
        for c in calls {
            out.push(c.await.expect("task"));
        }
        out
    }
}

/// The seconds of a throttled answer's `Retry-After`.
pub fn retry_after(res: &Response) -> u64 {
    res.headers()[header::RETRY_AFTER]
        .to_str()
        .expect("a Retry-After header")
        .parse()
        .expect("seconds")
}
