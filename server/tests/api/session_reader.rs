//! PostgreSQL's session reads over connections of their own (`backend::session_reader`): every
//! request's one statement in one round trip instead of the pool's two (its ping on release),
//! and nothing lost for it — a connection the server closed is replaced within the request, a
//! read cancelled mid-statement leaves nothing behind for the next one, a database that never
//! answers fails the read as its own fault (503) after the pool's wait.

use crate::support::{Backend, TestApp};
use app::api::auth::CurrentUser;
use backend::entity::session;
use backend::session_reader::{APPLICATION_NAME, SessionReader};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use std::pin::pin;
use std::task::Poll;

/// The backends of this app's database that its session reads hold.
async fn readers(app: &TestApp) -> Vec<i32> {
    let rows = app
        .state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pid FROM pg_stat_activity \
             WHERE application_name = $1 AND datname = current_database() ORDER BY pid",
            [APPLICATION_NAME.into()],
        ))
        .await
        .expect("pg_stat_activity");
    rows.iter()
        .map(|r| r.try_get::<i32>("", "pid").expect("pid"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_read_on_connections_of_their_own() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let dan = app.sign_in("dan@acme.test").await;
    for _ in 0..20 {
        app.call(&dan, CurrentUser {}).await.expect("signed in");
    }
    let held = readers(&app).await;
    // One request at a time: one connection, used again for each (never a new one per read).
    assert_eq!(held.len(), 1, "{held:?}");
    // The twin: a session that is not there is refused, read the same way.
    let forged = crate::support::Session::from_cookies("fleetgate_session=not-a-token");
    assert!(app.call(&forged, CurrentUser {}).await.is_err());
    assert_eq!(readers(&app).await, held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_connection_the_server_closed_is_replaced_within_the_request() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let dan = app.sign_in("dan@acme.test").await;
    app.call(&dan, CurrentUser {}).await.expect("signed in");
    let before = readers(&app).await;
    assert_eq!(before.len(), 1);
    // As a restart or an administrator would: the server ends the kept connection.
    app.state
        .db
        .execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_terminate_backend({})", before[0]),
        ))
        .await
        .expect("terminate");
    let me = app.call(&dan, CurrentUser {}).await;
    assert_eq!(me.expect("answered, not failed").email, "dan@acme.test");
    let after = readers(&app).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after, before, "a new connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_cancelled_mid_statement_leaves_nothing_for_the_next() {
    let app = TestApp::spawn(Backend::Postgres).await;
    app.sign_in("dan@acme.test").await;
    app.sign_in("olga@acme.test").await;
    let ids: Vec<String> = session::Entity::find()
        .all(&app.state.db)
        .await
        .expect("sessions")
        .into_iter()
        .map(|s| s.id)
        .collect();
    let [first, second] = &ids[..] else {
        panic!("two sessions: {ids:?}")
    };
    let reader = SessionReader::of(&app.state.db).expect("PostgreSQL");
    let row = reader.read(first).await.expect("read").expect("a row");
    assert_eq!(row.session_id(), first);

    // Started on the kept connection, its statement sent, then abandoned (a request whose
    // client went away): its answer must never reach another read.
    {
        let mut abandoned = pin!(reader.read(second));
        let polled = std::future::poll_fn(|cx| Poll::Ready(abandoned.as_mut().poll(cx))).await;
        assert!(polled.is_pending(), "still waiting for the server");
    }
    for id in [first, second, first] {
        let row = reader.read(id).await.expect("read").expect("a row");
        assert_eq!(row.session_id(), id, "each read gets its own row");
    }
    assert!(
        reader
            .read("no-such-session")
            .await
            .expect("read")
            .is_none()
    );
}

/// A database that accepts the connection and never answers (hung, or a black-holed proxy):
/// the read fails as the database's fault after the pool's wait — a 503 — instead of holding
/// the request for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_never_answers_fails_the_read_after_the_wait() {
    use sea_orm::sqlx::postgres::PgConnectOptions;
    use tokio::io::AsyncReadExt;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    // Reads what it is sent and answers nothing.
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            held.push(socket);
        }
    });
    let options = PgConnectOptions::new()
        .host("127.0.0.1")
        .port(port)
        .username("nobody")
        .database("nothing");
    let reader = SessionReader::with(options, std::time::Duration::from_millis(300));
    // The outer bound only turns a hang into a failure; the read must end well before it.
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), reader.read("any"))
        .await
        .expect("the read ended instead of hanging");
    let error = read.expect_err("no answer, no row");
    assert!(
        matches!(error, sea_orm::DbErr::ConnectionAcquire(_)),
        "the database's fault (503): {error:?}"
    );
    assert_eq!(
        app::error::AppError::from(error).status(),
        503,
        "a person is told to try again, not that the app broke"
    );
    silent.abort();
}
