//! Two server processes on one SQLite database, as two instances behind a load balancer: a
//! session each of them authenticates from its cache (`backend::session_cache`) is refused by
//! the other on the very next request once signed out — the epoch beside the database is the
//! only thing the processes share besides the database itself.

use crate::binary::spawn_server;
use crate::common::client::{Browser, Session};
use crate::common::db::{Backend, TestDb};
use app::api::auth::{CurrentUser, Logout};
use app::api::people::{DeactivateUser, ListPeople};
use reqwest::StatusCode;

async fn who_am_i(browser: &Browser, who: &Session) -> StatusCode {
    browser.call_raw(who, CurrentUser {}).await.status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_process_holds_on_the_other_at_once() {
    let db = TestDb::create(Backend::Sqlite).await;
    let (_one, a) = spawn_server(&db).await;
    let (_other, b) = spawn_server(&db).await;
    let (dan, tina, olga) = (
        a.sign_in("dan@acme.test").await,
        a.sign_in("tina@acme.test").await,
        a.sign_in("olga@acme.test").await,
    );
    // Both sessions known to the other process, and kept there.
    for _ in 0..5 {
        assert_eq!(who_am_i(&b, &dan).await, StatusCode::OK);
        assert_eq!(who_am_i(&b, &tina).await, StatusCode::OK);
    }

    // What the two processes share: the database, and the epoch beside it, which the sign-out
    // changes before it answers.
    let epoch = || std::fs::read(db.dir.join("test.db-auth-epoch")).expect("the epoch file");
    let before = epoch();
    assert_eq!(before.len(), 8);
    assert_eq!(a.call_raw(&dan, Logout {}).await.status(), StatusCode::OK);
    assert_ne!(epoch(), before, "the sign-out changed the epoch");
    assert_eq!(who_am_i(&b, &dan).await, StatusCode::UNAUTHORIZED);
    // The twin: Tina's session, kept beside Dan's, still works…
    assert_eq!(who_am_i(&b, &tina).await, StatusCode::OK);

    // …until she is deactivated on the first process: refused on the second at once.
    let tina_only = ListPeople {
        q: Some("tina@acme.test".into()),
        after: None,
    };
    let people = b.call(&olga, tina_only).await.expect("Olga finds Tina");
    let tina_id = people.rows.first().expect("Tina").id;
    a.call(&olga, DeactivateUser { user: tina_id })
        .await
        .expect("deactivated");
    assert_eq!(who_am_i(&b, &tina).await, StatusCode::UNAUTHORIZED);
}
