//! The audit chain when this process's idea of its head is wrong, on SQLite and PostgreSQL:
//! another instance appended in between, or a transaction appended and rolled back. Each append
//! must still follow the row that is really last — the chain never forks and verifies whole.
//! And how writes are kept apart: an independent write (fleet records) runs beside others on
//! PostgreSQL until it appends; a serial one (who may do what) waits for its turn.

use crate::support::{Backend, Call, Session, TestApp, decode, van};
use app::api::vehicles::CreateVehicle;
use app::error::AppError;
use backend::audit::{self, Details, Entry, Outcome, chain_hash};
use backend::entity::audit_event;
use chrono::{DateTime, Utc};
use domain::ids::VehicleId;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use std::time::Duration;

on_both_databases!(
    the_database_refuses_a_fork,
    appends_follow_the_real_head_whatever_this_process_last_saw,
    racing_writes_on_two_instances_leave_one_intact_chain,
    an_open_independent_write_holds_no_lock_on_postgres_a_serial_one_does,
    a_team_deleted_while_a_vehicle_is_added_names_the_vehicle,
    a_vehicle_added_to_a_team_deleted_meanwhile_is_refused_by_name,
);

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

/// A row for `action` chained correctly after `prev`, as any appender would write it, and its
/// hash.
fn row_after(prev: &str, action: &str) -> (audit_event::ActiveModel, String) {
    let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).expect("now");
    let entry = elsewhere(action);
    let hash = chain_hash(prev, &now, &entry, None);
    let row = audit_event::ActiveModel {
        occurred_at: Set(now),
        action: Set(entry.action),
        outcome: Set("success".into()),
        prev_hash: Set(prev.to_owned()),
        hash: Set(hash.clone()),
        ..Default::default()
    };
    (row, hash)
}

/// Whoever writes — this server, another instance, SQL by hand — a second row after a row that
/// already has a follower is refused by the database: the chain cannot fork.
async fn the_database_refuses_a_fork(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let boston = app.team_id("Boston Depot").await;
    let maria = app.sign_in("maria@acme.test").await;
    app.call(&maria, van(boston, "1FTBR1C80MKF00001"))
        .await
        .expect("a write");
    let last = head(&app).await;
    let forked = row_after(&last.prev_hash, "a/fork")
        .0
        .insert(&app.state.db)
        .await;
    assert!(
        forked.is_err(),
        "a second row after the same row: {forked:?}"
    );
    // The twin: after the head, such a row goes in.
    row_after(&last.hash, "a/follower")
        .0
        .insert(&app.state.db)
        .await
        .expect("a row after the head");
    let (rows, broken) = audit::verify(&app.state.db).await.expect("verify");
    assert_eq!(broken, None, "the chain verifies whole ({rows} rows)");
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
    let theirs = row_after(&before.hash, "another/instance")
        .0
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

    // A transaction that records an event and is then rolled back leaves the head where it was
    // (events are appended at commit; a failed append is a_failed_append_takes_the_whole_write_back).
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

/// On PostgreSQL an independent write left open (its event recorded) keeps no one waiting:
/// another write goes through and is chained first. A serial write left open keeps the next
/// serial write waiting until it commits. On SQLite, which has one writer, any open write keeps
/// the next one waiting.
async fn an_open_independent_write_holds_no_lock_on_postgres_a_serial_one_does(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let boston = app.team_id("Boston Depot").await;
    let maria = app.sign_in("maria@acme.test").await;
    let db = app.state.db.clone();

    let open = audit::begin_with(&db, audit::Isolation::Independent)
        .await
        .expect("begin");
    open.append(elsewhere("left/open")).await.expect("record");
    let write = spawn_call(&app, &maria, van(boston, "1FTBR1C80MKC00001"));
    match backend {
        Backend::Postgres => {
            finishes(write).await.expect("the write");
            open.commit().await.expect("commit");
            let last = head(&app).await;
            assert_eq!(last.action, "left/open", "chained when it commits, after");
        }
        Backend::Sqlite => {
            let write = still_waiting(write, "SQLite's one writer: it waits").await;
            open.commit().await.expect("commit");
            finishes(write).await.expect("the write, after");
        }
    }

    // A serial write's turn lasts until it commits, on both databases.
    let first = audit::begin(&db).await.expect("begin");
    let next = spawn_serial(&db, "serial/next");
    let next = still_waiting(next, "the next serial write waits for its turn").await;
    first
        .commit_with(elsewhere("serial/first"))
        .await
        .expect("commit");
    finishes(next).await.expect("the next serial write");
    assert_eq!(head(&app).await.action, "serial/next");
    let (rows, broken) = audit::verify(&db).await.expect("verify");
    assert_eq!(broken, None, "the chain verifies whole ({rows} rows)");
}

/// On SQLite, writes queued behind the one whose turn it is hold no connection (only the next
/// one does, its `BEGIN` done): however many wait, the reads keep the rest of the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_waiting_for_their_turn_leave_the_reads_their_connections() {
    use app::api::vehicles::ListVehicles;
    let app = TestApp::spawn(Backend::Sqlite).await;
    let boston = app.team_id("Boston Depot").await;
    let maria = app.sign_in("maria@acme.test").await;

    let open = audit::begin(&app.state.db).await.expect("begin");
    // More than the pool's 8 connections.
    let queued: Vec<_> = (0..12)
        .map(|i| spawn_call(&app, &maria, van(boston, &format!("1FTBR1C80MKC0{i:04}"))))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(queued.iter().all(|w| !w.is_finished()), "they wait");
    let read = app.call(&maria, ListVehicles { after: None }).await;
    assert_eq!(read.expect("a read while 12 writes wait").rows.len(), 3);

    open.commit_with(elsewhere("turn/held"))
        .await
        .expect("commit");
    for write in queued {
        finishes(write).await.expect("each write, in its turn");
    }
    let (rows, broken) = audit::verify(&app.state.db).await.expect("verify");
    assert_eq!(broken, None, "the chain verifies whole ({rows} rows)");
}

/// On SQLite a write's turn starts after its `BEGIN`, which is made while the write before it
/// still has the turn. The next write still reads what the one before committed (a deferred
/// transaction's snapshot is its first statement's); and when the one before is abandoned
/// after it wrote, the next never meets its write lock — SQLite would refuse at once, its busy
/// timeout not covering a read that turns into a write — nor sees its change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_write_reads_what_the_one_before_committed_and_never_its_abandoned_write() {
    use backend::entity::organisation;
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn(Backend::Sqlite).await;
    let db = app.state.db.clone();
    let acme = organisation::Entity::find()
        .filter(organisation::Column::Name.eq("Acme Logistics"))
        .one(&db)
        .await
        .expect("query")
        .expect("Acme")
        .id;
    for round in 0..20 {
        for commits in [true, false] {
            let before = audit::begin(&db).await.expect("begin");
            let name = format!("Acme {round} {commits}");
            let rename = format!("UPDATE organisations SET name = '{name}' WHERE id = {acme}");
            before.execute_unprepared(&rename).await.expect("write");
            let next = {
                let db = db.clone();
                tokio::spawn(async move {
                    let txn = audit::begin(&db).await?;
                    let seen = organisation::Entity::find_by_id(acme).one(&*txn).await?;
                    txn.commit_with(elsewhere("next/after")).await?;
                    Ok::<_, DbErr>(seen.map(|o| o.name))
                })
            };
            let next = still_waiting(next, "its turn comes after the write before").await;
            if commits {
                before.commit_unaudited().await.expect("commit");
            } else {
                drop(before);
            }
            let seen = finishes(next).await.expect("the next write");
            assert_eq!(seen.as_deref() == Some(name.as_str()), commits, "{seen:?}");
        }
    }
    let (rows, broken) = audit::verify(&db).await.expect("verify");
    assert_eq!(broken, None, "the chain verifies whole ({rows} rows)");
}

/// Deleting a team counts what it holds inside its serial transaction; a vehicle being added to
/// it meanwhile is an independent write, which takes no turn. The delete waits for it (a row
/// lock on PostgreSQL, the one writer on SQLite) and then refuses with what is there — a 409
/// naming the vehicle, never a 500 from the foreign key.
async fn a_team_deleted_while_a_vehicle_is_added_names_the_vehicle(backend: Backend) {
    use app::api::team_tree::{CreateTeam, DeleteTeam};
    let app = TestApp::spawn(backend).await;
    let olga = app.sign_in("olga@acme.test").await;
    let northeast = app.team_id("Northeast Region").await;
    let create = CreateTeam {
        parent: northeast,
        name: "Cambridge Depot".into(),
    };
    let cambridge = app.call(&olga, create).await.expect("a new, empty team");
    let org = backend::entity::team::Entity::find_by_id(cambridge)
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("the team")
        .organisation_id;

    let adding = audit::begin_with(&app.state.db, audit::Isolation::Independent)
        .await
        .expect("begin");
    let vin = domain::fleet::Vin::parse("1FTBR1C80MKF00001").expect("a VIN");
    backend::repo::vehicles::insert(
        &*adding,
        backend::repo::vehicles::NewVehicle {
            organisation_id: org,
            team_id: cambridge,
            name: "Cambridge van".into(),
            vin,
            make: "Ford".into(),
            model: "Transit".into(),
            year: 2022,
            plate: "MA 2".into(),
            odometer: 5,
        },
    )
    .await
    .expect("the vehicle, not yet committed");
    adding
        .append(elsewhere("vehicles/create"))
        .await
        .expect("record");

    let sent = app
        .request(&olga, &Call::of(&DeleteTeam { team: cambridge }))
        .send();
    let delete = tokio::spawn(async move { decode::<()>(sent.await.expect("request")).await });
    let delete = still_waiting(delete, "the delete waits for the vehicle being added").await;
    adding.commit().await.expect("the vehicle is added");
    match finishes(delete).await {
        Err(AppError::Conflict { message }) => {
            assert!(
                message.contains("1 vehicle"),
                "names the vehicle: {message}"
            )
        }
        other => panic!("expected 409 naming the vehicle, got {other:?}"),
    }
}

/// The other order: the team is deleted (committed) while a vehicle is being added to it, after
/// the guard read the tree. The foreign key refuses the insert, and the answer says what
/// happened, on the team field (422) — never a 500.
async fn a_vehicle_added_to_a_team_deleted_meanwhile_is_refused_by_name(backend: Backend) {
    use app::api::team_tree::CreateTeam;
    let app = TestApp::spawn(backend).await;
    let (olga, maria) = (
        app.sign_in("olga@acme.test").await,
        app.sign_in("maria@acme.test").await,
    );
    let northeast = app.team_id("Northeast Region").await;
    let create = CreateTeam {
        parent: northeast,
        name: "Cambridge Depot".into(),
    };
    let cambridge = app.call(&olga, create).await.expect("a new, empty team");

    // The delete, made and held open as a serial write would: the team's row is gone in it.
    let deleting = audit::begin(&app.state.db).await.expect("begin");
    backend::entity::team::Entity::delete_by_id(cambridge)
        .exec(&*deleting)
        .await
        .expect("delete the team, not yet committed");
    let adding = spawn_call(&app, &maria, van(cambridge, "1FTBR1C80MKG00001"));
    let adding = still_waiting(adding, "the insert waits for the delete").await;
    deleting
        .commit_with(elsewhere("teams/delete"))
        .await
        .expect("the delete commits");
    let err = finishes(adding).await.expect_err("the team is gone");
    let AppError::Invalid { fields } = &err else {
        panic!("expected 422 on the team, got {err:?}")
    };
    assert_eq!(fields[0].field, "team");
    assert!(
        fields[0].message.contains("deleted meanwhile"),
        "{fields:?}"
    );
}

/// Every PostgreSQL connection of the server runs its transactions in READ COMMITTED, even when
/// the database's default says otherwise (the chain's locks rely on it). The twin: a connection
/// opened without the server's options gets the database's default.
async fn transactions_are_read_committed_whatever_the_default() {
    use crate::support::{TestDb, test_config};
    use sea_orm::{ConnectionTrait, Database};
    let db = TestDb::create(Backend::Postgres).await;
    let plain = Database::connect(&db.url).await.expect("connect");
    plain
        .execute_unprepared(
            "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_isolation \
             = ''repeatable read''', current_database()); END $$",
        )
        .await
        .expect("make repeatable read the database's default");
    plain.close().await.expect("close");
    let other = Database::connect(&db.url).await.expect("connect");
    assert_eq!(
        isolation(&other).await,
        "repeatable read",
        "the default took"
    );
    other.close().await.expect("close");

    let (config, secret) = test_config(&db);
    let app = TestApp::start(db, &config, &secret, Default::default()).await;
    assert_eq!(isolation(&app.state.db).await, "read committed");
}

async fn isolation(conn: &sea_orm::DatabaseConnection) -> String {
    use sea_orm::ConnectionTrait;
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SHOW transaction_isolation",
        ))
        .await
        .expect("show")
        .expect("a row");
    row.try_get("", "transaction_isolation").expect("value")
}

mod postgres_only {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn transactions_are_read_committed_whatever_the_default() {
        super::transactions_are_read_committed_whatever_the_default().await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn another_instances_locks_are_respected() {
        super::another_instances_locks_are_respected().await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_append_takes_the_whole_write_back() {
        super::a_failed_append_takes_the_whole_write_back().await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rows_appended_together_that_meet_another_instances_row_all_follow_it() {
        super::rows_appended_together_that_meet_another_instances_row_all_follow_it().await
    }
}

/// Another instance is a process of its own: only what PostgreSQL holds keeps it apart, played
/// here on connections of their own. While it commits a row on the head this process knows, a
/// write here waits on that row (no two rows follow one) and then follows it; while it holds
/// the chain's lock, a write here whose guess of the head is wrong waits for it before reading
/// the head; while it makes a serial write (the serial key) the next serial write waits and an
/// independent one does not.
async fn another_instances_locks_are_respected() {
    let (app, maria, boston, db) = knowing_the_head("1FTBR1C80MKD00000").await;

    let before = head(&app).await;
    let (theirs, their_hash) = appending_after(&db, &before.hash).await;
    let write = spawn_call(&app, &maria, van(boston, "1FTBR1C80MKD00001"));
    let write = still_waiting(write, "no row beside another instance's on the same head").await;
    theirs.commit().await.expect("their row commits");
    finishes(write).await.expect("the write, after");
    assert_eq!(head(&app).await.prev_hash, their_hash, "follows their row");

    // Behind this process's back (its guess is now wrong), with the chain's lock held.
    let (moved, _) = appending_after(&db, &head(&app).await.hash).await;
    moved
        .commit()
        .await
        .expect("a row this process does not know");
    let appending = holding(&db, audit::PG_CHAIN_KEY).await;
    let write = spawn_call(&app, &maria, van(boston, "1FTBR1C80MKD00002"));
    let write = still_waiting(write, "no re-read of the head beside another instance's").await;
    appending.commit().await.expect("release");
    finishes(write).await.expect("the write, after");

    let serial = holding(&db, audit::PG_SERIAL_KEY).await;
    let next = spawn_serial(&db, "serial/after/theirs");
    let next = still_waiting(next, "no serial write beside another instance's").await;
    let beside = spawn_call(&app, &maria, van(boston, "1FTBR1C80MKD00003"));
    finishes(beside)
        .await
        .expect("an independent write goes on beside it");
    serial.commit().await.expect("release");
    finishes(next).await.expect("the serial write, after");
    let (rows, broken) = audit::verify(&db).await.expect("verify");
    assert_eq!(broken, None, "the chain verifies whole ({rows} rows)");
}

/// A write with several audit rows (a group's, or a change that records several events)
/// appends them at its commit: the first after the head this process guessed, the rest after
/// it in one statement. When another instance is appending on the same head, the database
/// holds the first back until that instance commits and then refuses it — no two rows follow
/// one — and none of the rest may go in after a row that does not stand: they all follow the
/// other instance's row, in order, each once, and the chain verifies whole.
async fn rows_appended_together_that_meet_another_instances_row_all_follow_it() {
    let (app, _, _, db) = knowing_the_head("1FTBR1C80MKF00000").await;

    let before = head(&app).await;
    let (theirs, their_hash) = appending_after(&db, &before.hash).await;
    let actions: Vec<String> = (0..3).map(|n| format!("together/{n}")).collect();
    let ours = {
        let (db, actions) = (db.clone(), actions.clone());
        tokio::spawn(async move {
            let txn = audit::begin_with(&db, audit::Isolation::Independent).await?;
            for action in &actions {
                txn.append(elsewhere(action)).await?;
            }
            txn.commit().await
        })
    };
    let ours = still_waiting(ours, "no row beside another instance's on the same head").await;
    theirs.commit().await.expect("their row commits");
    finishes(ours).await.expect("ours, after");

    let mut prev = their_hash;
    for action in &actions {
        let rows = audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq(action.as_str()))
            .all(&db)
            .await
            .expect("query");
        assert_eq!(rows.len(), 1, "{action} stands once");
        assert_eq!(
            rows[0].prev_hash, prev,
            "{action} follows the row before it"
        );
        prev = rows[0].hash.clone();
    }
    assert_eq!(head(&app).await.hash, prev, "the last of them is the head");
    let (rows, broken) = audit::verify(&db).await.expect("verify");
    assert_eq!(broken, None, "the chain verifies whole ({rows} rows)");
}

/// A transaction whose second event the database refuses (an action longer than its column)
/// takes its change and its first event back with it, and the next write chains from the head
/// that is really there — even though this process guessed otherwise while appending.
async fn a_failed_append_takes_the_whole_write_back() {
    let (app, maria, boston, db) = knowing_the_head("1FTBR1C80MKE00000").await;
    let before = head(&app).await;

    let txn = audit::begin(&db).await.expect("begin");
    txn.append(elsewhere("first/of/two")).await.expect("record");
    txn.append(elsewhere(&"x".repeat(65)))
        .await
        .expect("record");
    txn.commit()
        .await
        .expect_err("the database refuses the second event");
    let first = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("first/of/two"))
        .all(&db)
        .await
        .expect("query");
    assert!(first.is_empty(), "the first event went back with it");
    assert_eq!(head(&app).await.id, before.id, "the head did not move");

    app.call(&maria, van(boston, "1FTBR1C80MKE00001"))
        .await
        .expect("a write after it");
    assert_eq!(head(&app).await.prev_hash, before.hash);
    let (rows, broken) = audit::verify(&db).await.expect("verify");
    assert_eq!(broken, None, "the chain verifies whole ({rows} rows)");
}

type Pending<T> = tokio::task::JoinHandle<T>;

fn spawn_call(
    app: &TestApp,
    who: &Session,
    input: CreateVehicle,
) -> Pending<Result<VehicleId, AppError>> {
    let sent = app.request(who, &Call::of(&input)).send();
    tokio::spawn(async move { decode(sent.await.expect("request")).await })
}

fn spawn_serial(db: &sea_orm::DatabaseConnection, action: &str) -> Pending<Result<(), DbErr>> {
    let (db, action) = (db.clone(), action.to_owned());
    tokio::spawn(async move {
        let txn = audit::begin(&db).await?;
        txn.commit_with(elsewhere(&action)).await
    })
}

/// A write held up by a lock: not done after a while (it cannot be, whatever the machine's speed,
/// until the lock is released).
async fn still_waiting<T>(task: Pending<T>, why: &str) -> Pending<T> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!task.is_finished(), "{why}");
    task
}

/// A write that nothing holds up finishes; the bound only turns a hang into a failure.
async fn finishes<T>(task: Pending<T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .expect("not kept waiting")
        .expect("task")
}

/// A PostgreSQL server whose process knows the chain's head: Maria has just added a van (`vin`)
/// in Boston. The server, Maria's session, Boston's id and the database.
async fn knowing_the_head(vin: &str) -> (TestApp, Session, i32, sea_orm::DatabaseConnection) {
    let app = TestApp::spawn(Backend::Postgres).await;
    let boston = app.team_id("Boston Depot").await;
    let maria = app.sign_in("maria@acme.test").await;
    let db = app.state.db.clone();
    app.call(&maria, van(boston, vin))
        .await
        .expect("a first write: this process now knows the head");
    (app, maria, boston, db)
}

/// A transaction on a connection of its own that appended a row after `prev`, correctly
/// chained, and has not committed: another instance in the middle of its append. With the
/// row's hash.
async fn appending_after(
    db: &sea_orm::DatabaseConnection,
    prev: &str,
) -> (sea_orm::DatabaseTransaction, String) {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await.expect("begin");
    let (row, hash) = row_after(prev, "another/instance");
    row.insert(&txn).await.expect("their row");
    (txn, hash)
}

/// A transaction on a connection of its own holding the advisory lock `key`, as another
/// instance's would.
async fn holding(db: &sea_orm::DatabaseConnection, key: i64) -> sea_orm::DatabaseTransaction {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let txn = db.begin().await.expect("begin");
    txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({key})"))
        .await
        .expect("lock");
    txn
}
