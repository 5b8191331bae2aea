//! Group commit (`backend::group_commit`), on SQLite and PostgreSQL: writes queued together
//! commit together, a write that fails takes nothing else down and answers with what it meets
//! in a fresh transaction, and no committed change lacks its audit row.

use crate::support::{Backend, TestApp, audited, van, with_vin};
use app::api::vehicles::{CreateVehicle, ListVehicles};
use backend::audit::{self, Entry, Outcome};
use backend::entity::audit_event;
use backend::group_commit::GroupCommit;
use backend::repo::vehicles::NewVehicle;
use reqwest::StatusCode;
use sea_orm::{DbErr, EntityTrait, PaginatorTrait};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

on_both_databases!(
    a_failed_write_is_answered_alone_and_its_group_still_commits,
    a_write_that_panics_fails_alone_and_the_next_group_commits,
    concurrent_creates_with_duplicates_commit_each_vin_once_with_its_audit_row,
);

const DUPLICATE: &str = "duplicate VIN";

struct Fleet {
    org: i32,
    team: i32,
}

async fn fleet(app: &TestApp) -> Fleet {
    let team = app.team_id("Boston Depot").await;
    let org = backend::entity::team::Entity::find_by_id(team)
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("the team")
        .organisation_id;
    Fleet { org, team }
}

fn new_vehicle(f: &Fleet, vin: &str) -> NewVehicle {
    NewVehicle {
        organisation_id: f.org,
        team_id: f.team,
        name: format!("Group {vin}"),
        vin: domain::fleet::Vin::parse(vin).expect("a valid VIN"),
        make: "Ford".into(),
        model: "Transit".into(),
        year: 2022,
        plate: "G 1".into(),
        odometer: 1,
    }
}

fn entry(f: &Fleet, id: i32) -> Entry {
    Entry {
        organisation_id: Some(f.org),
        actor_user_id: None,
        subject_user_id: None,
        impersonation_id: None,
        action: "test/group".into(),
        resource: Some(format!("vehicle:{id}")),
        outcome: Outcome::Success,
        details: audit::Details::new(),
    }
}

/// Queues a write of `vin` that counts its runs in `runs`: a duplicate is its own error (as a
/// server function's form message would be), anything else the database's.
fn create(
    writes: &GroupCommit,
    f: &Fleet,
    vin: &str,
    runs: Arc<AtomicUsize>,
) -> impl std::future::Future<Output = Result<i32, String>> + 'static {
    let (writes, new, audited) = (writes.clone(), new_vehicle(f, vin), entry(f, 0));
    async move {
        writes
            .write(move |txn| {
                runs.fetch_add(1, Ordering::SeqCst);
                let (new, audited) = (new.clone(), audited.clone());
                Box::pin(async move {
                    match backend::repo::vehicles::insert(txn, new).await {
                        Ok(v) => {
                            let resource = Some(format!("vehicle:{}", v.id));
                            Ok((
                                v.id,
                                vec![Entry {
                                    resource,
                                    ..audited
                                }],
                            ))
                        }
                        Err(e) if backend::repo::is_duplicate(&e) => Err(Failure::Duplicate),
                        Err(e) => Err(Failure::Db(e.to_string())),
                    }
                })
            })
            .await
            .map_err(|e: Failure| match e {
                Failure::Duplicate => DUPLICATE.to_owned(),
                Failure::Db(e) => e,
            })
    }
}

enum Failure {
    Duplicate,
    Db(String),
}

impl From<DbErr> for Failure {
    fn from(e: DbErr) -> Failure {
        Failure::Db(e.to_string())
    }
}

/// Holds every group the committer may run at once until [`HeldGates::release`], so that the
/// writes queued meanwhile form the next group together, whatever the runtime's timing.
async fn hold_the_committer(writes: &GroupCommit, db: &sea_orm::DatabaseConnection) -> HeldGates {
    let open = Arc::new(Semaphore::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let gates = backend::group_commit::groups_at_once(db);
    let mut held = Vec::new();
    for _ in 0..gates {
        let (gate, entered, writes) = (open.clone(), started.clone(), writes.clone());
        held.push(tokio::spawn(async move {
            writes
                .write(move |_txn| {
                    let (open, started) = (gate.clone(), entered.clone());
                    Box::pin(async move {
                        started.fetch_add(1, Ordering::SeqCst);
                        open.acquire()
                            .await
                            .map_err(|_| DbErr::Custom("closed".into()))?
                            .forget();
                        Ok::<_, DbErr>(((), Vec::new()))
                    })
                })
                .await
        }));
        // Each gate in a group of its own: the next is queued once this one runs.
        while started.load(Ordering::SeqCst) < held.len() {
            tokio::task::yield_now().await;
        }
    }
    HeldGates { open, held }
}

struct HeldGates {
    open: Arc<Semaphore>,
    held: Vec<tokio::task::JoinHandle<Result<(), DbErr>>>,
}

impl HeldGates {
    async fn release(self) {
        self.open.add_permits(self.held.len());
        for gate in self.held {
            gate.await.expect("gate task").expect("gate write");
        }
    }
}

async fn chain_intact(app: &TestApp) {
    let (_, broken) = audit::verify(&app.state.db).await.expect("verify");
    assert_eq!(broken, None, "the audit chain breaks at this row");
}

/// Five writes in one group; the third duplicates the first's VIN, so it fails only because the
/// first ran before it in the same transaction. The group is rolled back; the first two commit
/// again as a group; the third runs first in a fresh transaction — where the first has
/// committed, so its duplicate is real — and is answered with it; the last two commit. Each
/// committed write has its audit row, the failed one none, and the chain holds.
async fn a_failed_write_is_answered_alone_and_its_group_still_commits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fleet(&app).await;
    let writes = &app.state.writes;
    let rows_before = audit_event::Entity::find()
        .count(&app.state.db)
        .await
        .expect("count");
    let gates = hold_the_committer(writes, &app.state.db).await;
    let vins = [
        "1GRP0000000000001",
        "1GRP0000000000002",
        "1GRP0000000000001",
        "1GRP0000000000004",
        "1GRP0000000000005",
    ];
    let runs: Vec<_> = vins.iter().map(|_| Arc::new(AtomicUsize::new(0))).collect();
    // Queued one after another, in this order, behind the held committer.
    let mut queued = Vec::new();
    for (vin, runs) in vins.iter().zip(&runs) {
        queued.push(tokio::spawn(create(writes, &f, vin, runs.clone())));
        while writes.queued() < queued.len() {
            tokio::task::yield_now().await;
        }
    }
    gates.release().await;
    let mut answers = Vec::new();
    for q in queued {
        answers.push(q.await.expect("write task"));
    }

    let ok: Vec<bool> = answers.iter().map(Result::is_ok).collect();
    assert_eq!(ok, [true, true, false, true, true], "{answers:?}");
    assert_eq!(answers[2], Err(DUPLICATE.to_owned()));
    let runs: Vec<usize> = runs.iter().map(|r| r.load(Ordering::SeqCst)).collect();
    // Those before the failure twice (rolled back, committed again), the failed one twice
    // (in the group, then first and alone), those after it once.
    assert_eq!(runs, [2, 2, 2, 1, 1]);
    assert_eq!(with_vin(&app, vins[0]).await, 1);
    for vin in [vins[1], vins[3], vins[4]] {
        assert_eq!(with_vin(&app, vin).await, 1, "{vin}");
    }
    assert_eq!(audited(&app, "test/group").await, 4);
    // Those four rows and no other: nothing of the failed write, whatever its outcome.
    let rows_after = audit_event::Entity::find()
        .count(&app.state.db)
        .await
        .expect("count");
    assert_eq!(rows_after - rows_before, 4);
    chain_intact(&app).await;
}

/// A write that panics (a bug) fails its own request, never the process's writes: the group
/// after it commits.
async fn a_write_that_panics_fails_alone_and_the_next_group_commits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fleet(&app).await;
    let writes = &app.state.writes;
    let panicked = writes
        .write(
            |_txn| -> backend::group_commit::WriteFuture<'_, Result<((), Vec<Entry>), DbErr>> {
                Box::pin(async { panic!("a bug in a write") })
            },
        )
        .await;
    assert!(
        panicked.is_err(),
        "a write that panicked was answered {panicked:?}"
    );
    let runs = Arc::new(AtomicUsize::new(0));
    let after = create(writes, &f, "1GRP0000000000009", runs).await;
    assert!(after.is_ok(), "{after:?}");
    assert_eq!(with_vin(&app, "1GRP0000000000009").await, 1);
    assert_eq!(audited(&app, "test/group").await, 1);
    chain_intact(&app).await;
}

/// Through the real server: forty creates at once, every fourth repeating an earlier VIN. Each
/// VIN makes one vehicle; every answer is a success or the VIN field's message (never a 500);
/// every success has exactly one audit row; the chain holds.
async fn concurrent_creates_with_duplicates_commit_each_vin_once_with_its_audit_row(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let team = app.team_id("Boston Depot").await;
    let vins: Vec<String> = (0..40)
        .map(|i| {
            let n = if i % 4 == 3 { i - 2 } else { i };
            format!("1CNC{n:013}")
        })
        .collect();
    let creates: Vec<CreateVehicle> = vins.iter().map(|v| van(team, v)).collect();
    let answers = app.call_all_at_once(&maria, creates).await;

    let mut distinct = vins.clone();
    distinct.sort();
    distinct.dedup();
    let won = answers.iter().filter(|a| a.is_ok()).count();
    assert_eq!(won, distinct.len(), "{answers:?}");
    for err in answers.iter().filter_map(|a| a.as_ref().err()) {
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY, "{err:?}");
        assert_eq!(
            err.field_message("vin"),
            Some("A vehicle with this VIN is already registered."),
            "{err:?}"
        );
    }
    for vin in &distinct {
        assert_eq!(with_vin(&app, vin).await, 1, "{vin}");
    }
    assert_eq!(audited(&app, "vehicles/create").await, won as u64);
    // The list shows them: the answers were given after the commit.
    let listed = app
        .call(&maria, ListVehicles { after: None })
        .await
        .expect("Maria's vehicles");
    assert!(!listed.rows.is_empty());
    chain_intact(&app).await;
}
