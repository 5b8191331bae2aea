//! What the API scenarios share on top of the common harness: a [`TestApp`] (a server with the
//! key of its tokens, and siblings on its database), demo rows by name, cookies read from
//! answers, and [`on_both_databases!`].

pub use crate::common::client::{
    Call, Caller, DEMO_PASSWORD, NoSession, ServerFunction, Session, app_error, decode,
    session_cookie, set_cookie,
};
pub use crate::common::db::{Backend, TestDb, pg_admin_url};
pub use crate::common::server::{Server, test_config};

use app::api::audit_log::AuditList;
use app::api::work_orders::ListWorkOrders;
use app::error::AppError;
use backend::token::{Claims, TokenKeys};
use domain::ids::{VehicleId, WorkOrderId};
use reqwest::{Response, header};
use server::config::{Config, Tuning};
use std::ops::Deref;
use std::sync::Arc;

/// A running server (called through it: `app.call(&dan, …)`, `app.state.db`), with the key
/// its tokens are signed with and the configuration it was started with.
pub struct TestApp {
    server: Server,
    config: Config,
    pub secret: Vec<u8>,
    pub keys: TokenKeys,
}

impl Deref for TestApp {
    type Target = Server;

    fn deref(&self) -> &Server {
        &self.server
    }
}

/// What the tests' servers run with: production's tuning, with the pool opened on demand (a
/// run starts hundreds of servers; `health::the_pool_is_open_before_the_first_request` proves
/// production's warm pool).
pub fn cold_pool() -> Tuning {
    Tuning {
        db_warm: false,
        ..Tuning::default()
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, cold_pool()).await
    }

    pub async fn spawn_with(backend: Backend, tuning: Tuning) -> TestApp {
        let db = TestDb::create(backend).await;
        let (config, secret) = test_config(&db);
        Self::start(db, &config, &secret, tuning).await
    }

    pub async fn start(db: TestDb, config: &Config, secret: &[u8], tuning: Tuning) -> TestApp {
        Self::start_shared(Arc::new(db), config, secret, tuning).await
    }

    /// A second server process on the same database (as behind a load balancer).
    pub async fn sibling(&self) -> TestApp {
        self.sibling_with(cold_pool()).await
    }

    pub async fn sibling_with(&self, tuning: Tuning) -> TestApp {
        let mut config = self.config.clone();
        config.demo = false;
        Self::start_shared(self.db.clone(), &config, &self.secret, tuning).await
    }

    /// Another server on the same database, with a configuration of the test's choosing.
    pub async fn sibling_with_config(&self, config: &Config) -> TestApp {
        Self::start_shared(self.db.clone(), config, &self.secret, cold_pool()).await
    }

    /// The configuration this server was started with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    async fn start_shared(
        db: Arc<TestDb>,
        config: &Config,
        secret: &[u8],
        tuning: Tuning,
    ) -> TestApp {
        TestApp {
            server: Server::start(db, config, tuning).await,
            config: config.clone(),
            secret: secret.to_vec(),
            keys: TokenKeys::from_secret(secret).expect("keys"),
        }
    }

    /// The claims inside a `name=token` cookie (signature checked with the test key).
    pub fn claims_of(&self, cookie: &str) -> Claims {
        let token = cookie.split_once('=').expect("name=value").1;
        self.keys.verify(token).expect("a valid token")
    }

    /// A page (or any GET) as `who`'s browser asks for it.
    pub async fn get(&self, path: &str, who: impl Caller) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(c) = who.cookies() {
            req = req.header(header::COOKIE, c);
        }
        req.send().await.expect("request")
    }

    /// A same-origin form POST to `F`'s endpoint with a body built by hand: for tests about
    /// the wire (a malformed argument, an unexpected field), which no typed call can send.
    pub async fn send_form<F: ServerFunction>(
        &self,
        who: impl Caller,
        form: &[(&str, &str)],
    ) -> Response {
        let mut req = self
            .client
            .post(self.url(F::PATH))
            .header(header::ORIGIN, &self.base)
            .form(form);
        if let Some(c) = who.cookies() {
            req = req.header(header::COOKIE, c);
        }
        req.send().await.expect("request")
    }

    /// Sends every call at once, each on its own task so they really race; each answer, in
    /// the order of the inputs.
    pub async fn call_all_at_once<F: ServerFunction>(
        &self,
        who: &Session,
        inputs: Vec<F>,
    ) -> Vec<Result<F::Output, AppError>> {
        let sent: Vec<_> = inputs
            .iter()
            .map(|input| tokio::spawn(self.request(who, &Call::of(input)).send()))
            .collect();
        let mut answers = Vec::with_capacity(sent.len());
        for s in sent {
            answers.push(decode(s.await.expect("task").expect("request")).await);
        }
        answers
    }

    /// The audit log page as `who` sees it (their organisation's, or all for staff).
    pub async fn audit_page(&self, who: &Session) -> app::model::AuditPage {
        self.call(who, every_event()).await.expect("the audit page")
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

    /// The id of a demo user, by e-mail (tests refer to demo data by name).
    pub async fn user_id(&self, email: &str) -> i32 {
        use backend::entity::user;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let row = user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .one(&self.state.db)
            .await;
        row.expect("query").expect("a demo user").id
    }

    pub async fn vehicle_id(&self, name: &str) -> VehicleId {
        use backend::entity::vehicle;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let row = vehicle::Entity::find()
            .filter(vehicle::Column::Name.eq(name))
            .one(&self.state.db)
            .await;
        VehicleId(row.expect("query").expect("a demo vehicle").id)
    }

    pub async fn work_order_id(&self, title: &str) -> WorkOrderId {
        use backend::entity::work_order;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let row = work_order::Entity::find()
            .filter(work_order::Column::Title.eq(title))
            .one(&self.state.db)
            .await;
        WorkOrderId(row.expect("query").expect("a demo work order").id)
    }
}

/// The work-order list without a filter: `ListWorkOrders { team: Some(t), ..every_work_order() }`.
pub fn every_work_order() -> ListWorkOrders {
    ListWorkOrders {
        status: None,
        team: None,
        assignee: None,
        after: None,
    }
}

/// The audit log without a filter.
pub fn every_event() -> AuditList {
    AuditList {
        actor: None,
        subject: None,
        organisation: None,
        impersonation: None,
        person: None,
        org: None,
        action: None,
        from: None,
        to: None,
        before: None,
    }
}

/// A principal of a table: signed in, or nobody.
impl Caller for Option<&Session> {
    fn cookies(&self) -> Option<&str> {
        self.map(Session::cookie)
    }
}

impl Session {
    /// This browser while viewing as someone: its own session cookie and the view-as cookie,
    /// as the browser sends both.
    pub fn viewing_as(&self, view_as: &str) -> Session {
        Session::from_cookies(format!("{}; {view_as}", self.cookie()))
    }
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

/// The seconds of a throttled answer's `Retry-After`.
pub fn retry_after(res: &Response) -> u64 {
    res.headers()[header::RETRY_AFTER]
        .to_str()
        .expect("a Retry-After header")
        .parse()
        .expect("seconds")
}

/// Runs one async scenario on both databases as two tests.
macro_rules! on_both_databases {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Postgres).await
                }
            )+
        }
    };
}

/// A valid new vehicle for `team` with `vin` (a test's writes that are not about the vehicle).
pub fn van(team: i32, vin: &str) -> app::api::vehicles::CreateVehicle {
    app::api::vehicles::CreateVehicle {
        team,
        name: format!("Van {vin}"),
        vin: vin.into(),
        make: "Ford".into(),
        model: "Transit".into(),
        year: "2022".into(),
        plate: "MA 1".into(),
        odometer: "10".into(),
    }
}

/// How many vehicles have `vin`.
pub async fn with_vin(app: &TestApp, vin: &str) -> u64 {
    use backend::entity::vehicle;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    vehicle::Entity::find()
        .filter(vehicle::Column::Vin.eq(vin))
        .count(&app.state.db)
        .await
        .expect("count the vehicles")
}

/// How many successes of `action` the audit log records.
pub async fn audited(app: &TestApp, action: &str) -> u64 {
    use backend::entity::audit_event;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .filter(audit_event::Column::Outcome.eq("success"))
        .count(&app.state.db)
        .await
        .expect("count the audit rows")
}
