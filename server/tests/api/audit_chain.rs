//! The audit chain when this process's idea of its head is wrong, on SQLite and PostgreSQL:
//! another instance appended in between, or a transaction appended and rolled back. Each append
//! must still follow the row that is really last — the chain never forks and verifies whole.

use crate::support::{Backend, TestApp};
use app::api::vehicles::CreateVehicle;
use backend::audit::{self, Details, Entry, Outcome, chain_hash};
use backend::entity::audit_event;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder};

on_both_databases!(appends_follow_the_real_head_whatever_this_process_last_saw);

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
