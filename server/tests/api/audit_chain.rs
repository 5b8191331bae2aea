//! The audit chain when this process's idea of its head is wrong, on SQLite and PostgreSQL:
//! another instance appended in between, or a transaction appended and rolled back. Each append
//! must still follow the row that is really last — the chain never forks and verifies whole.
//! And how writes are kept apart: an independent write (fleet records) runs beside others on
//! PostgreSQL until it appends; a serial one (who may do what) waits for its turn.

use crate::support::{Backend, TestApp};
use app::api::vehicles::CreateVehicle;
use backend::audit::{self, Details, Entry, Outcome, chain_hash};
use backend::entity::audit_event;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use std::time::Duration;

on_both_databases!(
    appends_follow_the_real_head_whatever_this_process_last_saw,
    racing_writes_on_two_instances_leave_one_intact_chain,
    an_open_independent_write_holds_no_lock_on_postgres_a_serial_one_does,
);

fn van(team: i32, vin: &str) -> CreateVehicle {
    CreateVehicle {
        team,
        name: format!("Chain van {vin}"),
        vin: vin.into(),
        make: "Ford".into(),
        model: "Transit".into(),
        year: "2022".into(),
        plate: "MA 1".into(),
        odometer: "10".into(),
    }
}

async fn head(app: &TestApp) -> audit_event::Model {
    audit_event::Entity::find()
        .order_by_desc(audit_event::Column::Id)
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("a row")
}

fn elsewhere(action: &str) -> Entry {
    Entry {
        organisation_id: None,
        actor_user_id: None,
        subject_user_id: None,
        impersonation_id: None,
        action: action.into(),
        resource: None,
        outcome: Outcome::Success,
        details: Details::new(),
    }
}

async fn appends_follow_the_real_head_whatever_this_process_last_saw(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let boston = app.team_id("Boston Depot").await;
    let maria = app.sign_in("maria@acme.test").await;
    app.call(&maria, van(boston, "1FTBR1C80MKA00001"))
        .await
        .expect("a first write: this process now knows the head");

    // Another instance appends a row of its own, chained correctly, behind this one's back.
    let before = head(&app).await;
    let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).expect("now");
    let other = elsewhere("another/instance");
    let hash = chain_hash(&before.hash, &now, &other, None);
    let theirs = audit_event::ActiveModel {
        occurred_at: Set(now),
        action: Set(other.action.clone()),
        outcome: Set("success".into()),
        prev_hash: Set(before.hash.clone()),
        hash: Set(hash.clone()),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .expect("the other instance's row");

    app.call(&maria, van(boston, "1FTBR1C80MKA00002"))
        .await
        .expect("a write after it");
    let ours = head(&app).await;
    assert_eq!(
        ours.prev_hash, theirs.hash,
        "follows the other instance's row"
    );

    // A transaction that appends and is then rolled back leaves the head where it was.
    let txn = audit::begin(&app.state.db).await.expect("begin");
    txn.append(elsewhere("rolled/back")).await.expect("append");
    drop(txn);
    app.call(&maria, van(boston, "1FTBR1C80MKA00003"))
        .await
        .expect("a write after the rollback");
    let last = head(&app).await;
    assert_eq!(last.prev_hash, ours.hash, "follows the last committed row");

    let (rows, broken) = audit::verify(&app.state.db).await.expect("verify");
    assert_eq!(broken, None, "the chain verifies whole ({rows} rows)");
}

/// Independent writes (vehicles) on two instances race with serial writes: every one lands with
/// exactly one audit row of its own, and the chain — ids in commit order — verifies whole.
async fn racing_writes_on_two_instances_leave_one_intact_chain(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = app.sibling().await;
    let boston = app.team_id("Boston Depot").await;
    let maria = app.sign_in("maria@acme.test").await;
    let vans = |from: u32| {
        (from..from + 20)
            .map(|n| van(boston, &format!("1FTBR1C80MKB{n:05}")))
            .collect::<Vec<_>>()
    };
    let serial = (0..10).map(|n| {
        let db = app.state.db.clone();
        tokio::spawn(async move {
            let txn = audit::begin(&db).await?;
            txn.commit_with(elsewhere(&format!("serial/{n}"))).await
        })
    });
    let serial: Vec<_> = serial.collect();
    let (here, there) = tokio::join!(
        app.call_all_at_once(&maria, vans(0)),
        other.call_all_at_once(&maria, vans(100)),
    );
    for s in serial {
        s.await.expect("task").expect("a serial write");
    }
    let ids: Vec<_> = here
        .into_iter()
        .chain(there)
        .map(|r| r.expect("every vehicle is created"))
        .collect();
    assert_eq!(ids.len(), 40);
    for id in ids {
        let rows = audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq("vehicles/create"))
            .filter(audit_event::Column::Resource.eq(format!("vehicle:{id}")))
            .all(&app.state.db)
            .await
            .expect("query");
        assert_eq!(rows.len(), 1, "vehicle {id} has exactly one audit row");
    }
    let (rows, broken) = audit::verify(&app.state.db).await.expect("verify");
    assert_eq!(broken, None, "the chain verifies whole ({rows} rows)");
}

/// On PostgreSQL an independent write left open (its change made, its event recorded) keeps no
/// one waiting: another write goes through and is chained first. A serial write left open
/// keeps the next serial write waiting until it commits. On SQLite, which has one writer, any
/// open write keeps the next one waiting.
async fn an_open_independent_write_holds_no_lock_on_postgres_a_serial_one_does(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let boston = app.team_id("Boston Depot").await;
    let maria = app.sign_in("maria@acme.test").await;
    let db = app.state.db.clone();

    let open = audit::begin_with(&db, audit::Isolation::Independent)
        .await
        .expect("begin");
    open.append(elsewhere("left/open")).await.expect("record");
    let write = {
        let app_call = app.call(&maria, van(boston, "1FTBR1C80MKC00001"));
        tokio::time::timeout(Duration::from_millis(500), app_call).await
    };
    match backend {
        Backend::Postgres => {
            write
                .expect("not kept waiting by an open independent write")
                .expect("the write");
            open.commit().await.expect("commit");
            let last = head(&app).await;
            assert_eq!(last.action, "left/open", "chained when it commits, after");
        }
        Backend::Sqlite => {
            assert!(write.is_err(), "SQLite's one writer: it waits");
            open.commit().await.expect("commit");
        }
    }

    // A serial write's turn lasts until it commits, on both databases.
    let first = audit::begin(&db).await.expect("begin");
    let next = tokio::spawn({
        let db = db.clone();
        async move {
            let txn = audit::begin(&db).await?;
            txn.commit_with(elsewhere("serial/next")).await
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !next.is_finished(),
        "the next serial write waits for its turn"
    );
    first
        .commit_with(elsewhere("serial/first"))
        .await
        .expect("commit");
    next.await.expect("task").expect("the next serial write");
    let last = head(&app).await;
    assert_eq!(last.action, "serial/next");
    let (rows, broken) = audit::verify(&db).await.expect("verify");
    assert_eq!(broken, None, "the chain verifies whole ({rows} rows)");
}
