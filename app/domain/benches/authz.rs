//! `check` on warm effective permissions, next to cedar-policy and casbin answering the same
//! question over an equivalent model (teams and sub-teams, grants to teams for their direct
//! members, scope flowing down the tree); and computing effective permissions at scale.
//!
//! Run: `cargo bench -p app --bench authz` (figures in the closing note and docs/).

use criterion::{Criterion, criterion_group, criterion_main};
use domain::authz::{
    EffectivePermissions, Grants, OrgPolicy, Permission, TeamTree, UserAccess, templates,
};
use std::hint::black_box;
use std::sync::Arc;

/// Acme's demo tree and grants: 1 Acme › 2 Northeast › 3 Boston; 1 › 4 West › 5 Denver.
fn demo() -> (TeamTree, Grants) {
    let tree = TeamTree::new([
        (1, None, "Acme Logistics".to_owned()),
        (2, Some(1), "Northeast Region".to_owned()),
        (3, Some(2), "Boston Depot".to_owned()),
        (4, Some(1), "West Region".to_owned()),
        (5, Some(4), "Denver Depot".to_owned()),
    ])
    .expect("tree");
    let mut grants = Grants::default();
    grants.set(1, templates::fleet_manager());
    grants.set(2, templates::fleet_manager());
    grants.set(3, templates::technician());
    grants.set(
        5,
        templates::technician().with(Permission::WorkOrdersComplete),
    );
    (tree, grants)
}

/// The same model in Cedar: a policy per granting team, members as a group, resources inside
/// their team, teams inside their parents.
fn cedar_model(
    tree: &TeamTree,
    grants: &Grants,
) -> (cedar_policy::PolicySet, cedar_policy::Entities) {
    let mut src = String::new();
    let mut entities = Vec::new();
    for t in tree.teams() {
        let set = grants.on(t);
        if !set.is_empty() {
            let actions: Vec<String> = set
                .iter()
                .map(|p| format!("Action::\"{}\"", p.key()))
                .collect();
            src.push_str(&format!(
                "permit(principal in Group::\"members_{t}\", action in [{}], resource in Team::\"{t}\");\n",
                actions.join(", ")
            ));
        }
        let parents: Vec<_> = tree
            .parent(t)
            .map(|p| serde_json::json!({"type": "Team", "id": p.to_string()}))
            .into_iter()
            .collect();
        entities.push(serde_json::json!({"uid": {"type": "Team", "id": t.to_string()}, "attrs": {}, "parents": parents}));
        entities.push(serde_json::json!({"uid": {"type": "Group", "id": format!("members_{t}")}, "attrs": {}, "parents": []}));
    }
    entities.push(serde_json::json!({"uid": {"type": "User", "id": "tina"}, "attrs": {}, "parents": [{"type": "Group", "id": "members_3"}]}));
    entities.push(serde_json::json!({"uid": {"type": "WorkOrder", "id": "1"}, "attrs": {}, "parents": [{"type": "Team", "id": "3"}]}));
    let policies = src.parse().expect("policies");
    let entities =
        cedar_policy::Entities::from_json_value(serde_json::Value::Array(entities), None)
            .expect("entities");
    (policies, entities)
}

/// The same model in casbin: `g` user→team membership, `g2` team→parent, `p` team grants.
/// casbin-rs keeps every grouping in one role graph, so membership links point at distinct
/// `member:` nodes; otherwise a member of a team would also count as a member of its parents.
async fn casbin_model(tree: &TeamTree, grants: &Grants) -> casbin::Enforcer {
    use casbin::{CoreApi, DefaultModel, MemoryAdapter, MgmtApi};
    let model = DefaultModel::from_str(
        "[request_definition]\nr = sub, team, act\n\
         [policy_definition]\np = sub, act\n\
         [role_definition]\ng = _, _\ng2 = _, _\n\
         [policy_effect]\ne = some(where (p.eft == allow))\n\
         [matchers]\nm = g(r.sub, \"member:\" + p.sub) && g2(r.team, p.sub) && r.act == p.act\n",
    )
    .await
    .expect("model");
    let mut e = casbin::Enforcer::new(model, MemoryAdapter::default())
        .await
        .expect("enforcer");
    for t in tree.teams() {
        for p in grants.on(t).iter() {
            e.add_policy(vec![format!("team:{t}"), p.key().to_owned()])
                .await
                .expect("policy");
        }
        if let Some(parent) = tree.parent(t) {
            e.add_named_grouping_policy("g2", vec![format!("team:{t}"), format!("team:{parent}")])
                .await
                .expect("g2");
        }
    }
    e.add_grouping_policy(vec!["tina".into(), "member:team:3".into()])
        .await
        .expect("g");
    e
}

fn check(c: &mut Criterion) {
    let (tree, grants) = demo();
    let tina = UserAccess::new(
        Arc::new(OrgPolicy {
            tree: tree.clone(),
            grants: grants.clone(),
        }),
        vec![3],
    );
    let mut g = c.benchmark_group("check");
    g.bench_function("fleetgate_allows", |b| {
        b.iter(|| {
            tina.effective
                .allows(black_box(Permission::WorkOrdersUpdate), black_box(3))
        })
    });
    g.bench_function("fleetgate_check_allow", |b| {
        b.iter(|| tina.check(black_box(Permission::WorkOrdersUpdate), black_box(3)))
    });
    g.bench_function("fleetgate_check_deny_explained", |b| {
        b.iter(|| tina.check(black_box(Permission::WorkOrdersComplete), black_box(3)))
    });

    let (policies, entities) = cedar_model(&tree, &grants);
    let authorizer = cedar_policy::Authorizer::new();
    let request = |action: &str| {
        cedar_policy::Request::new(
            r#"User::"tina""#.parse().expect("principal"),
            format!("Action::\"{action}\"").parse().expect("action"),
            r#"WorkOrder::"1""#.parse().expect("resource"),
            cedar_policy::Context::empty(),
            None,
        )
        .expect("request")
    };
    let (allow, deny) = (
        request("work_orders.update"),
        request("work_orders.complete"),
    );
    assert_eq!(
        authorizer
            .is_authorized(&allow, &policies, &entities)
            .decision(),
        cedar_policy::Decision::Allow
    );
    assert_eq!(
        authorizer
            .is_authorized(&deny, &policies, &entities)
            .decision(),
        cedar_policy::Decision::Deny
    );
    g.bench_function("cedar_allow", |b| {
        b.iter(|| authorizer.is_authorized(black_box(&allow), &policies, &entities))
    });

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let enforcer = rt.block_on(casbin_model(&tree, &grants));
    use casbin::CoreApi;
    assert!(
        enforcer
            .enforce(("tina", "team:3", "work_orders.update"))
            .expect("enforce")
    );
    assert!(
        !enforcer
            .enforce(("tina", "team:3", "work_orders.complete"))
            .expect("enforce")
    );
    g.bench_function("casbin_allow", |b| {
        b.iter(|| enforcer.enforce(black_box(("tina", "team:3", "work_orders.update"))))
    });
    g.finish();
}

/// A tree of `n` teams (parent of team i drawn among 0..i with a fixed LCG) with `grants`
/// (team, permission) pairs spread over it; the user is a member of 5 teams.
fn large(n: i32, grant_count: usize) -> (TeamTree, Grants, Vec<i32>) {
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    let tree = TeamTree::new((0..n).map(|i| {
        let parent = if i == 0 {
            None
        } else {
            Some(next(i as u64) as i32)
        };
        (i, parent, format!("team {i}"))
    }))
    .expect("tree");
    let mut grants = Grants::default();
    for _ in 0..grant_count {
        let t = next(n as u64) as i32;
        let p = Permission::ALL[next(Permission::ALL.len() as u64) as usize];
        grants.grant(t, p);
    }
    let members = (0..5).map(|_| next(n as u64) as i32).collect();
    (tree, grants, members)
}

fn compute(c: &mut Criterion) {
    let (tree, grants, members) = large(1_000, 10_000);
    c.bench_function("effective/1000_teams_10000_grants", |b| {
        b.iter(|| {
            EffectivePermissions::compute(black_box(&tree), black_box(&grants), black_box(&members))
        })
    });
    let rows: Vec<_> = tree
        .teams()
        .map(|t| (t, tree.parent(t), format!("team {t}")))
        .collect();
    c.bench_function("tree/build_1000_teams", |b| {
        b.iter(|| TeamTree::new(black_box(rows.clone())))
    });
}

criterion_group!(benches, check, compute);
criterion_main!(benches);
