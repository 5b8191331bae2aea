//! Building and running the application: database, migrations, router, listener, shutdown.

use crate::config::{Config, Tuning};
use crate::headers::{self, SecurityHeaders};
use crate::origins::Origins;
use crate::{demo, health, keys, middleware};
use app::{App, shell};
use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use backend::access::AccessCache;
use backend::cookie::CookieConfig;
use backend::state::AppState;
use backend::throttle::Throttle;
use backend::token::TokenKeys;
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Connects to the configured database (creating the SQLite data directory if needed).
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    connect_tuned(config, &Tuning::default()).await
}

/// [`connect`], with the running server's tuning.
pub async fn connect_tuned(config: &Config, tuning: &Tuning) -> anyhow::Result<DatabaseConnection> {
    let url = config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let sqlite = url.starts_with("sqlite:");
    let mut opts = ConnectOptions::new(url);
    if sqlite {
        opts.map_sqlx_sqlite_opts(tune_sqlite);
        // sqlx pings a connection each time it is taken from the pool. A SQLite connection is
        // a file handle that cannot go away, and its ping is a round trip to the connection's
        // worker thread: one more thread hand-off on every statement of every request.
        opts.test_before_acquire(false);
    } else {
        opts.map_sqlx_postgres_opts(read_committed);
        // A PostgreSQL connection can be dropped by a restart, a failover, a proxy or a
        // firewall. Only one left idle for a while is pinged before use: under load none is
        // (the ping was a round trip to the server before every statement), and after a
        // restart a connection used just before fails one request with a 503 and is replaced.
        opts.test_before_acquire_if_idle_for(tuning.db_ping_idle);
    }
    let size = pool_size(sqlite);
    // Every connection is opened before the server listens, and kept: a PostgreSQL connection
    // costs a backend process and a SCRAM exchange, so a pool that grew on demand made the
    // first burst after a start (or after an idle spell) wait for them — p99 155 ms against
    // 14 ms warm, measured (docs/BENCHMARKS.md, "A pool opened before the first request").
    opts.max_connections(size)
        .min_connections(if tuning.db_warm { size } else { 1 })
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    Ok(Database::connect(opts).await?)
}

/// The connections a server keeps open: on SQLite, readers beside the one writer (each
/// connection is a thread of sqlx's); on PostgreSQL, what 16 concurrent requests need.
pub const fn pool_size(sqlite: bool) -> u32 {
    if sqlite { 8 } else { 16 }
}

/// SQLite as an embedded database deserves (docs/OPERATIONS.md, "SQLite durability"): WAL, so
/// readers never wait for the writer nor the writer for readers; `synchronous = NORMAL`, which
/// in WAL mode never corrupts the database and loses at most the last transactions before a
/// power cut (never on a crash of the process); a busy timeout, so a writer that meets another
/// waits for it instead of failing; foreign keys enforced.
fn tune_sqlite(opts: sqlx::sqlite::SqliteConnectOptions) -> sqlx::sqlite::SqliteConnectOptions {
    use sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
    opts.journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
}

/// Every PostgreSQL transaction in READ COMMITTED, whatever the server's or the role's default:
/// the audit chain and serial writes take their locks in the transaction and then read what
/// others committed before them — under REPEATABLE READ the snapshot would predate the lock and
/// an append could follow a stale head. Set when each connection starts: no round trip.
fn read_committed(opts: sqlx::postgres::PgConnectOptions) -> sqlx::postgres::PgConnectOptions {
    opts.options([("default_transaction_isolation", "read committed")])
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await?;
    Ok(())
}

/// Where cargo-leptos put the site, and what the page shell links to.
fn leptos_options(config: &Config) -> LeptosOptions {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    LeptosOptions::builder()
        .output_name(env("LEPTOS_OUTPUT_NAME", "fleetgate"))
        .site_root(config.site_root.clone())
        .site_pkg_dir(env("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(config.addr)
        .hash_files(app::assets::hashed())
        .build()
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    pub state: AppState,
    /// Ends expired impersonations in the background; stops when the application does.
    _sweeper: backend::impersonation::ending::Sweeper,
    /// Delivers queued mail in the background; stops when the application does.
    _postman: backend::mail::postman::Postman,
    /// Sends audit events to the webhooks in the background.
    _courier: backend::webhook::Courier,
}

impl Application {
    /// Connects, migrates, loads the demo data when asked, and binds the listener (port 0 picks
    /// a free port, as the tests do).
    pub async fn build(config: &Config, tuning: Tuning) -> anyhow::Result<Application> {
        let db = connect_tuned(config, &tuning).await?;
        // On SQLite, every serial write needs the authentication epoch beside the database
        // (OPERATIONS.md, "Sessions kept in memory"): say so now rather than on the first write.
        backend::auth_epoch::of(&db).map_err(|e| {
            anyhow::anyhow!("cannot open the authentication epoch beside the SQLite database: {e}")
        })?;
        migrate(&db).await?;
        if config.demo && demo::seed_if_empty(&db).await? {
            tracing::info!("loaded the demo data set");
        }
        let secret = keys::load_or_create(config.jwt_secret.as_deref(), &config.data_dir)?;
        backend::password::warm_up();
        let listener = tokio::net::TcpListener::bind(config.addr).await?;
        let state = AppState::new(backend::state::Services {
            writes: backend::group_commit::GroupCommit::start(db.clone()),
            db,
            tokens: Arc::new(TokenKeys::from_secret(&secret)?),
            throttle: Arc::new(Throttle::new(
                tuning.throttle_account,
                tuning.throttle_address,
            )),
            access: Arc::new(AccessCache::default()),
            sessions: Arc::default(),
            resource_counts: Arc::default(),
            cookie: CookieConfig {
                secure: config.secure_cookies(),
            },
            session_ttl: config.session_ttl(),
            public_url: config.links_base(listener.local_addr()?),
            webhook_allow_private: config.webhook_allow_private,
        });
        let postman = backend::mail::postman::Postman::spawn(
            state.db.clone(),
            config.mail_transport()?,
            tuning.mail_every,
            tuning.mail_retry,
        );
        let origins = match config.public_origin() {
            Some(public) => Origins::public(&public),
            None => {
                let addr = listener.local_addr()?;
                if addr.ip().is_unspecified() {
                    tracing::warn!(
                        %addr,
                        "listening on every interface without FLEETGATE_PUBLIC_URL: only the \
                         loopback names are served; set the public URL to serve others"
                    );
                }
                Origins::listening(addr)
            }
        };
        let security = SecurityHeaders {
            hsts: config.secure_cookies(),
        };
        let router = router(state.clone(), leptos_options(config), origins, security);
        let sweeper = backend::impersonation::ending::Sweeper::spawn(
            state.db.clone(),
            tuning.impersonation_sweep,
        );
        let courier = backend::webhook::Courier::spawn(
            state.db.clone(),
            tuning.webhook_every,
            tuning.webhook_retry,
            config.webhook_allow_private,
        );
        Ok(Application {
            listener,
            router,
            state,
            _sweeper: sweeper,
            _postman: postman,
            _courier: courier,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        use axum::serve::ListenerExt;
        // Without TCP_NODELAY a streamed (server-rendered) response's second small write waits
        // for the client's delayed ACK: 40 ms per page on keep-alive connections, measured.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}

/// The whole HTTP surface: probes, pages and server functions, behind the middleware.
pub fn router(
    state: AppState,
    leptos: LeptosOptions,
    origins: Origins,
    security: SecurityHeaders,
) -> Router {
    let routes = generate_route_list(App);
    let options = leptos.clone();
    let site = Site {
        app: state.clone(),
        leptos: Arc::new(leptos),
    };
    // Server functions and pages find the application's state in their context.
    let app_state = state.clone();
    let provide_state = move || leptos::prelude::provide_context(app_state.clone());
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/audit/export", get(crate::audit_export::export))
        .leptos_routes_with_context(&site, routes, provide_state, move || shell(options.clone()))
        .nest_service(
            "/pkg",
            crate::assets::service(leptos_site_pkg(&site.leptos)),
        )
        .fallback(leptos_axum::file_and_error_handler::<Site, _>(shell))
        // Every request passes the gate (middleware.rs says in what order), then gets the
        // security headers; around both, its id, its span and compression. Three layers in
        // all: each `Router::layer` boxes and clones the stack beneath it on every request.
        .layer(axum::middleware::from_fn_with_state(
            middleware::Gate {
                state: state.clone(),
                origins,
            },
            middleware::gate,
        ));
    headers::apply(router, security)
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(
                    |req: &axum::extract::Request| {
                        let id = req
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        // A mailed link's secret is part of its path: never logged.
                        let path = domain::links::loggable(req.uri().path());
                        tracing::info_span!("request", id = %id, method = %req.method(), path = %path)
                    },
                ))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(crate::assets::compression()),
        )
        .with_state(site)
}

/// Where the built assets are (`<site root>/<pkg dir>`).
fn leptos_site_pkg(options: &LeptosOptions) -> std::path::PathBuf {
    std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref())
}

/// The router's state: the application's, and what Leptos needs to render and serve files.
/// Cloned for every request (axum hands each handler its own), so both are shared pointers;
/// the options are copied out only for the handlers that take them (pages).
#[derive(Clone)]
struct Site {
    app: AppState,
    leptos: Arc<LeptosOptions>,
}

impl FromRef<Site> for AppState {
    fn from_ref(site: &Site) -> Self {
        site.app.clone()
    }
}

impl FromRef<Site> for LeptosOptions {
    fn from_ref(site: &Site) -> Self {
        LeptosOptions::clone(&site.leptos)
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
