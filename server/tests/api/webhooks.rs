//! Webhooks (DESIGN.md "Audit out") against a real HTTP receiver the test starts, on SQLite and
//! PostgreSQL: every event of the organisation, in order, signed with the secret shown once and a
//! fresh timestamp; the receiver stopped and started again loses nothing; failures are visible;
//! who may set one.

use crate::support::{Backend, TestApp};
use app::api::impersonation::StartImpersonation;
use app::api::teams::PermissionMatrix;
use app::api::webhooks::{GetWebhook, SetWebhook, TestWebhook};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use backend::audit_export::ExportRow;
use backend::entity::audit_event;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use server::config::Tuning;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

on_both_databases!(
    events_reach_the_receiver_signed_in_order_and_survive_its_outage,
    who_may_set_a_webhook,
);

/// What the receiver got: each request's signature, event id and body.
type Inbox = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

/// A webhook receiver on `addr` (port 0: any), answering 200 to every POST.
struct Receiver {
    addr: SocketAddr,
    inbox: Inbox,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(addr: SocketAddr, inbox: Inbox) -> Receiver {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let got = inbox.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let got = got.clone();
                async move {
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    got.lock().unwrap().push((
                        h("fleetgate-signature"),
                        h("fleetgate-event"),
                        body.to_vec(),
                    ));
                    AxumStatus::OK
                }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { addr, inbox, task }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn stop(self) -> (SocketAddr, Inbox) {
        self.task.abort();
        (self.addr, self.inbox)
    }
}

fn fast() -> Tuning {
    Tuning {
        webhook_every: Duration::from_millis(50),
        webhook_retry: Duration::from_millis(100),
        ..Tuning::default()
    }
}

/// Waits (up to 15 s) until `ok` holds.
async fn until(what: &str, mut ok: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !ok().await {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn events_reach_the_receiver_signed_in_order_and_survive_its_outage(backend: Backend) {
    let app = TestApp::spawn_with(backend, fast()).await;
    let olga = app.sign_in("olga@acme.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let gary = app.sign_in("gary@globex.test").await;
    let inbox: Inbox = Arc::default();
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap(), inbox.clone()).await;
    let secret = app
        .call(
            &olga,
            SetWebhook {
                url: receiver.url(),
            },
        )
        .await
        .expect("Olga sets the webhook")
        .expect("a secret, shown once");
    let acme = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("webhook/set"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .organisation_id;

    // Acme's events go out; Globex's do not.
    for _ in 0..3 {
        let _ = app.call_raw(&tina, PermissionMatrix {}).await;
    }
    let _ = app.call_raw(&gary, PermissionMatrix {}).await;
    // Its own setting is an Acme event too (after the cursor): 1 + 3.
    until("four events", async || inbox.lock().unwrap().len() >= 4).await;

    // Stopped: events wait, the failure shows; started again on the same address: all arrive.
    let (addr, inbox) = receiver.stop();
    for _ in 0..2 {
        let _ = app.call_raw(&tina, PermissionMatrix {}).await;
    }
    until("a failure to show", async || {
        app.call(&olga, GetWebhook {})
            .await
            .unwrap()
            .failing
            .is_some()
    })
    .await;
    let receiver = Receiver::start(addr, inbox.clone()).await;
    until("the two waiting events", async || {
        inbox.lock().unwrap().len() >= 6
    })
    .await;
    // The receiver holds an event before the worker records its delivery: wait for the record.
    until("the delivery to be recorded", async || {
        let status = app.call(&olga, GetWebhook {}).await.unwrap();
        (status.pending, status.failing) == (0, None)
    })
    .await;

    // Exactly Acme's events since the webhook was set, in order, each signed and fresh.
    let expected: Vec<i32> = audit_event::Entity::find()
        .filter(audit_event::Column::OrganisationId.eq(acme.expect("an organisation")))
        .order_by_asc(audit_event::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    let got = inbox.lock().unwrap().clone();
    let ids: Vec<i32> = got.iter().map(|(_, id, _)| id.parse().unwrap()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    let from = *unique.first().unwrap();
    let expected: Vec<i32> = expected.into_iter().filter(|id| *id >= from).collect();
    assert_eq!(
        unique, expected,
        "every Acme event once, in order (at least once: {ids:?})"
    );
    let now = chrono::Utc::now().timestamp();
    for (sig, id, body) in &got {
        assert!(
            backend::webhook::verify(&secret, sig, body, now, backend::webhook::TOLERANCE),
            "event {id} signed"
        );
        assert!(!backend::webhook::verify(
            "wrong",
            sig,
            body,
            now,
            backend::webhook::TOLERANCE
        ));
        let row: ExportRow = serde_json::from_slice(body).unwrap();
        assert_eq!(row.id.to_string(), *id);
        assert_eq!(row.organisation_id, acme);
        assert!(row.hash_holds(), "the row's chain hash holds");
    }

    // The test endpoint sends a signed ping.
    let said = app.call(&olga, TestWebhook {}).await.unwrap();
    assert!(said.contains("200"), "{said}");
    until("the ping", async || {
        inbox.lock().unwrap().iter().any(|(_, id, _)| id == "ping")
    })
    .await;
    receiver.stop();
}

async fn who_may_set_a_webhook(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let maria = app.sign_in("maria@acme.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    // org.settings for a customer (not Maria); audit.view_all for the operator's.
    let e = app
        .call(
            &maria,
            SetWebhook {
                url: "https://hooks.example.com/x".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    let e = app.call(&maria, GetWebhook {}).await.unwrap_err();
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    let w = app.call(&admin, GetWebhook {}).await.unwrap();
    assert!(w.all_organisations && w.url.is_none());
    // Bad input: a clear error on the field, nothing saved.
    let e = app
        .call(
            &olga,
            SetWebhook {
                url: "ftp://x".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(e.field_message("url").is_some(), "{e:?}");
    assert!(app.call(&olga, GetWebhook {}).await.unwrap().url.is_none());
    let e = app.call(&olga, TestWebhook {}).await.unwrap_err();
    assert_eq!(e.status(), StatusCode::NOT_FOUND);
    // Never in someone else's name.
    let olga_id = app.user_id("olga@acme.test").await;
    let res = app
        .call_raw(
            &admin,
            StartImpersonation {
                user: olga_id,
                reason: "Ticket SUP-7: checking the webhook".into(),
                ticket: String::new(),
                mode: "act".into(),
                minutes: String::new(),
            },
        )
        .await;
    let viewing = admin.viewing_as(&crate::support::view_as_cookie(&res).unwrap());
    let e = app
        .call(
            &viewing,
            SetWebhook {
                url: "https://hooks.example.com/x".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    // Removing (an empty URL) takes it away.
    app.call(
        &olga,
        SetWebhook {
            url: "https://hooks.example.com/x".into(),
        },
    )
    .await
    .unwrap();
    assert!(app.call(&olga, GetWebhook {}).await.unwrap().url.is_some());
    assert_eq!(
        app.call(&olga, SetWebhook { url: String::new() })
            .await
            .unwrap(),
        None
    );
    assert!(app.call(&olga, GetWebhook {}).await.unwrap().url.is_none());
}
