//! Effective permissions at scale, from the database (docs/BENCHMARKS.md, "Scale"): for a sample
//! of the generated users (`server seed-scale`), the time to load the organisation's tree and
//! grants plus the user's memberships and compute their effective permissions — what a request
//! pays when nothing is cached — and the time when the organisation's policy is cached (a new
//! session in a busy organisation). Prints p50/p99; asserts nothing about time.
//!
//! `DATABASE_URL=postgres://… cargo run --release -p server --example scale_probe`

use backend::access::{load_memberships, load_policy};
use backend::entity::{organisation, user};
use domain::authz::UserAccess;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SAMPLE: usize = 500;

fn report(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{label:<48} n={:<5} p50 {:>9.1?}  p99 {:>9.1?}  max {:>9.1?}",
        times.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL")?;
    let db = sea_orm::Database::connect(&url).await?;
    let org = organisation::Entity::find()
        .filter(organisation::Column::Name.eq(server::scale::ORGANISATION))
        .one(&db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no scale data set here: run `server seed-scale` first"))?;
    let users: Vec<i32> = user::Entity::find()
        .filter(user::Column::OrganisationId.eq(org.id))
        .all(&db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    let step = (users.len() / SAMPLE).max(1);
    let sample: Vec<i32> = users.iter().step_by(step).copied().take(SAMPLE).collect();

    let (mut cold, mut warm, mut compute) = (Vec::new(), Vec::new(), Vec::new());
    let mut granted = 0usize;
    let policy = Arc::new(load_policy(&db, org.id).await?);
    for &u in &sample {
        let t = Instant::now();
        let p = Arc::new(load_policy(&db, org.id).await?);
        let access = UserAccess::new(p, load_memberships(&db, u).await?);
        cold.push(t.elapsed());

        let t = Instant::now();
        let memberships = load_memberships(&db, u).await?;
        let access_warm = UserAccess::new(policy.clone(), memberships.clone());
        warm.push(t.elapsed());

        let t = Instant::now();
        let again = UserAccess::new(policy.clone(), memberships);
        compute.push(t.elapsed());
        granted += again
            .effective
            .teams_with(domain::authz::Permission::VehiclesView)
            .count();
        assert_eq!(access.effective, access_warm.effective);
    }
    println!(
        "organisation {}: {} teams, {} users; sample of {} users ({} teams where they may view vehicles, summed)",
        org.name,
        policy.tree.teams().count(),
        users.len(),
        sample.len(),
        granted
    );
    report("load tree + grants + memberships, compute", cold);
    report("policy cached: load memberships, compute", warm);
    report("compute only (in memory)", compute);
    Ok(())
}
