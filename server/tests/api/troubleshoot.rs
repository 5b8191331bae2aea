//! The access troubleshooter through the real HTTP API, on SQLite and PostgreSQL: Tina's denial
//! explained with its path, the fix "grant it to Boston Depot" with Maria and Olga able to
//! apply it, Support seeing it but never applying, Maria applying it (then Tina really
//! completes), a stale fix refused, who may ask (themselves, teams.view, access.troubleshoot),
//! another organisation's user or team not found, a vehicle or a work order asked about as its
//! owning team, and every question about someone else audited.

use crate::support::{Backend, TestApp};
use app::api::teams::GrantPermission;
use app::api::troubleshoot::{ApplyFix, Compare, Troubleshoot, WhatCan};
use app::api::work_orders::{CompleteWorkOrder, GetWorkOrder};
use app::error::AppError;
use app::model::TroubleshootAnswer;
use backend::entity::audit_event;
use domain::authz::{Change, Decision, Permission};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

on_both_databases!(
    tina_is_denied_with_the_path_and_the_fix_names_maria_and_olga,
    support_sees_the_fixes_but_applies_none,
    maria_applies_the_fix_and_tina_completes,
    a_fix_no_longer_offered_is_refused,
    who_may_ask_and_answers_never_cross_organisations,
    a_vehicle_or_a_work_order_means_its_owning_team,
);

fn tina_on_boston(boston: i32) -> Troubleshoot {
    Troubleshoot {
        user: "tina@acme.test".into(),
        permission: "work_orders.complete".into(),
        team: Some(boston),
        vehicle: None,
        work_order: None,
    }
}

/// Olga's comparison of Tina and Dan, everywhere or on one work order.
fn tina_and_dan(work_order: Option<i32>) -> Compare {
    Compare {
        user: "tina@acme.test".into(),
        with: "dan@acme.test".into(),
        team: None,
        vehicle: None,
        work_order,
    }
}

fn grant_fix(boston: i32) -> ApplyFix {
    ApplyFix {
        user: "tina@acme.test".into(),
        permission: "work_orders.complete".into(),
        team: boston,
        change: "grant".into(),
        fix_team: boston,
    }
}

async fn audited(app: &TestApp, action: &str, outcome: &str) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .filter(audit_event::Column::Outcome.eq(outcome))
        .count(&app.state.db)
        .await
        .unwrap()
}

fn grant_to_boston(a: &TroubleshootAnswer) -> &app::model::FixView {
    a.fixes
        .iter()
        .find(|f| matches!(&f.change, Change::Grant { team, .. } if team.name == "Boston Depot"))
        .expect("a fix granting it to Boston Depot")
}

async fn tina_is_denied_with_the_path_and_the_fix_names_maria_and_olga(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let boston = app.team_id("Boston Depot").await;
    let maria = app.sign_in("maria@acme.test").await;
    let a = app
        .call(&maria, tina_on_boston(boston))
        .await
        .expect("Maria may ask about Tina on Boston");
    let Decision::Deny(denial) = &a.explanation.decision else {
        panic!("Tina must be denied: {:?}", a.explanation.decision)
    };
    assert_eq!(a.explanation.sentence, denial.describe());
    let path: Vec<_> = a
        .explanation
        .path
        .iter()
        .map(|s| (s.team.name.as_str(), s.member, s.grants))
        .collect();
    assert_eq!(
        path,
        [
            ("Boston Depot", true, false),
            ("Northeast Region", false, true),
            ("Acme Logistics", false, true),
        ]
    );
    let fix = grant_to_boston(&a);
    assert_eq!(fix.title, "Grant work_orders.complete to Boston Depot");
    assert_eq!(fix.appliers, ["Maria Santos", "Olga Petrova"]);
    assert!(fix.can_apply, "Maria may apply it herself");
    assert!(fix.radius[0].starts_with("Tina"), "{:?}", fix.radius);
    // Who holds it on Boston: Maria and Olga, through their teams.
    let holders: Vec<_> = a.who_can.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(holders, ["Maria Santos", "Olga Petrova"]);
    assert_eq!(
        a.link,
        format!(
            "/troubleshoot?user=tina%40acme.test&permission=work_orders.complete&team={boston}"
        )
    );
    // Maria's question about Tina is on the record.
    assert_eq!(audited(&app, "troubleshoot", "success").await, 1);

    // Tina may ask about herself (not recorded: it is her own access).
    let tina = app.sign_in("tina@acme.test").await;
    let own = app
        .call(&tina, tina_on_boston(boston))
        .await
        .expect("herself");
    assert!(!own.explanation.decision.is_allowed());
    assert!(
        own.fixes.iter().all(|f| !f.can_apply),
        "Tina may apply no fix"
    );
    assert_eq!(audited(&app, "troubleshoot", "success").await, 1);
}

async fn support_sees_the_fixes_but_applies_none(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let boston = app.team_id("Boston Depot").await;
    let support = app.sign_in("support@fleetgate.test").await;
    let a = app
        .call(&support, tina_on_boston(boston))
        .await
        .expect("Support may troubleshoot a customer user");
    assert!(!a.explanation.decision.is_allowed());
    let fix = grant_to_boston(&a);
    assert_eq!(fix.appliers, ["Maria Santos", "Olga Petrova"]);
    assert!(
        a.fixes.iter().all(|f| !f.can_apply),
        "never Apply for staff"
    );
    let refused = app.call(&support, grant_fix(boston)).await.unwrap_err();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // Still denied: nothing changed.
    let again = app.call(&support, tina_on_boston(boston)).await.unwrap();
    assert!(!again.explanation.decision.is_allowed());
    // Both questions are audited as Support's, about Tina.
    let tina = app.user_id("tina@acme.test").await;
    let rows = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("troubleshoot"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let support_id = app.user_id("support@fleetgate.test").await;
    assert!(rows.iter().all(|r| r.actor_user_id == Some(support_id)));
    assert!(
        rows.iter()
            .all(|r| r.resource.as_deref() == Some(format!("user:{tina}").as_str()))
    );
}

async fn maria_applies_the_fix_and_tina_completes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let boston = app.team_id("Boston Depot").await;
    let (maria, tina) = (
        app.sign_in("maria@acme.test").await,
        app.sign_in("tina@acme.test").await,
    );
    let id = app.work_order_id("Replace front brake pads").await;
    let before = app.call(&tina, GetWorkOrder { id }).await.unwrap();
    let refused = app
        .call(
            &tina,
            CompleteWorkOrder {
                id,
                version: before.version,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    app.call(&maria, grant_fix(boston))
        .await
        .expect("Maria applies the fix");
    assert_eq!(audited(&app, "troubleshoot/apply", "success").await, 1);
    let after = app.call(&maria, tina_on_boston(boston)).await.unwrap();
    assert!(after.explanation.decision.is_allowed());
    assert!(after.explanation.sentence.starts_with("Allowed"));
    assert!(after.fixes.is_empty());

    let done = app
        .call(
            &tina,
            CompleteWorkOrder {
                id,
                version: before.version,
            },
        )
        .await
        .expect("Tina completes it now");
    assert_eq!(done.status, domain::fleet::WorkOrderStatus::Completed);
}

async fn a_fix_no_longer_offered_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let boston = app.team_id("Boston Depot").await;
    let (maria, olga) = (
        app.sign_in("maria@acme.test").await,
        app.sign_in("olga@acme.test").await,
    );
    let offered = app.call(&maria, tina_on_boston(boston)).await.unwrap();
    assert!(grant_to_boston(&offered).can_apply);
    // Meanwhile Olga grants it to Boston: the state changed, the fix is gone.
    app.call(
        &olga,
        GrantPermission {
            team: boston,
            permission: "work_orders.complete".into(),
        },
    )
    .await
    .unwrap();
    let stale = app.call(&maria, grant_fix(boston)).await.unwrap_err();
    assert_eq!(stale.status(), StatusCode::CONFLICT, "{stale}");
    assert!(stale.to_string().contains("no longer offered"), "{stale}");
    // A fix that never was (Dan's team for Tina is a join, not a grant): refused too.
    let denver = app.team_id("Denver Depot").await;
    let never = ApplyFix {
        change: "grant".into(),
        fix_team: denver,
        ..grant_fix(app.team_id("Denver Depot").await)
    };
    let refused = app.call(&olga, never).await.unwrap_err();
    assert_eq!(refused.status(), StatusCode::CONFLICT, "{refused}");
    assert_eq!(audited(&app, "troubleshoot/apply", "success").await, 0);
}

async fn who_may_ask_and_answers_never_cross_organisations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let boston = app.team_id("Boston Depot").await;
    let chicago = app.team_id("Chicago Yard").await;
    let (gary, dan, tina, olga) = (
        app.sign_in("gary@globex.test").await,
        app.sign_in("dan@acme.test").await,
        app.sign_in("tina@acme.test").await,
        app.sign_in("olga@acme.test").await,
    );
    // Another organisation's user, or team: not found.
    let err = app.call(&gary, tina_on_boston(boston)).await.unwrap_err();
    assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
    let about_himself_on_acme = Troubleshoot {
        user: "gary@globex.test".into(),
        permission: "vehicles.view".into(),
        team: Some(boston),
        vehicle: None,
        work_order: None,
    };
    let err = app.call(&gary, about_himself_on_acme).await.unwrap_err();
    assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
    let olga_on_chicago = Troubleshoot {
        user: "olga@acme.test".into(),
        permission: "vehicles.view".into(),
        team: Some(chicago),
        vehicle: None,
        work_order: None,
    };
    let err = app.call(&olga, olga_on_chicago).await.unwrap_err();
    assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
    // Dan holds no teams.view: 403 about Tina, with the reason; himself is fine.
    let err = app.call(&dan, tina_on_boston(boston)).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let AppError::Forbidden {
        denial: Some(d), ..
    } = &err
    else {
        panic!("a denial to explain: {err:?}")
    };
    assert_eq!(d.permission, Permission::TeamsView);
    let himself = Troubleshoot {
        user: "dan@acme.test".into(),
        permission: "work_orders.complete".into(),
        team: Some(app.team_id("Denver Depot").await),
        vehicle: None,
        work_order: None,
    };
    let a = app.call(&dan, himself).await.expect("Dan about himself");
    assert!(a.explanation.decision.is_allowed());
    // Everyone about themselves, without an e-mail too.
    let own = Troubleshoot {
        user: String::new(),
        permission: "work_orders.complete".into(),
        team: Some(boston),
        vehicle: None,
        work_order: None,
    };
    let a = app.call(&tina, own).await.expect("Tina about herself");
    assert_eq!(a.subject.email, "tina@acme.test");
    let what = app
        .call(
            &tina,
            WhatCan {
                user: "tina@acme.test".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(what.teams[0].team.name, "Boston Depot");
    // No question about someone else was answered yet; Olga's compare is one per person.
    assert_eq!(audited(&app, "troubleshoot", "success").await, 0);
    let diff = app
        .call(&olga, tina_and_dan(None))
        .await
        .expect("Olga compares Tina and Dan");
    assert!(
        diff.differences
            .iter()
            .any(|d| d.permission == Permission::WorkOrdersComplete
                && d.holder == "Dan Brooks"
                && d.team.name == "Denver Depot")
    );
    assert_eq!(audited(&app, "troubleshoot/compare", "success").await, 2);
    let err = app
        .call(
            &gary,
            Compare {
                user: "gary@globex.test".into(),
                with: "dan@acme.test".into(),
                team: None,
                vehicle: None,
                work_order: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
}

fn tina_on(vehicle: Option<i32>, work_order: Option<i32>, team: Option<i32>) -> Troubleshoot {
    Troubleshoot {
        user: "tina@acme.test".into(),
        permission: "work_orders.complete".into(),
        team,
        vehicle,
        work_order,
    }
}

async fn a_vehicle_or_a_work_order_means_its_owning_team(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let boston = app.team_id("Boston Depot").await;
    let denver = app.team_id("Denver Depot").await;
    let brakes = app.work_order_id("Replace front brake pads").await.0;
    let engine = app.work_order_id("Check engine light").await.0;
    let truck = app.vehicle_id("Box truck B-101").await.0;
    let (maria, dan, gary, olga) = (
        app.sign_in("maria@acme.test").await,
        app.sign_in("dan@acme.test").await,
        app.sign_in("gary@globex.test").await,
        app.sign_in("olga@acme.test").await,
    );

    // A Boston work order: the same answer as on Boston Depot, naming the work order.
    let on_team = app
        .call(&maria, tina_on(None, None, Some(boston)))
        .await
        .expect("on Boston Depot");
    let on_order = app
        .call(&maria, tina_on(None, Some(brakes), None))
        .await
        .expect("on the Boston work order");
    assert_eq!(on_order.explanation, on_team.explanation);
    assert_eq!(on_order.fixes, on_team.fixes);
    let about = on_order.about.as_ref().expect("the work order named");
    assert_eq!((about.param.as_str(), about.id), ("work_order", brakes));
    assert!(
        about.label.contains("Replace front brake pads"),
        "{about:?}"
    );
    assert_eq!(
        on_order.link,
        format!(
            "/troubleshoot?user=tina%40acme.test&permission=work_orders.complete\
             &work_order={brakes}"
        )
    );
    // Its vehicle, and the work order with its vehicle and its team named too: the same.
    let on_vehicle = app
        .call(&maria, tina_on(Some(truck), None, None))
        .await
        .expect("on the Boston truck");
    assert_eq!(on_vehicle.explanation.scope.id, boston);
    assert_eq!(on_vehicle.about.expect("the vehicle").param, "vehicle");
    let all_three = app
        .call(&maria, tina_on(Some(truck), Some(brakes), Some(boston)))
        .await
        .expect("names that agree");
    assert_eq!(all_three.explanation, on_team.explanation);
    // The question about the work order is on the record, naming it.
    let row = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("troubleshoot"))
        .filter(audit_event::Column::Fields.contains(format!("work_order:{brakes}")))
        .one(&app.state.db)
        .await
        .unwrap();
    assert!(row.is_some(), "the work order asked about is audited");

    // Names that disagree: refused, saying which team owns it — only to someone who may look.
    let err = app
        .call(&maria, tina_on(None, Some(brakes), Some(denver)))
        .await
        .unwrap_err();
    let AppError::Invalid { fields } = &err else {
        panic!("names that disagree are invalid: {err:?}")
    };
    assert_eq!(fields[0].field, "team");
    assert!(fields[0].message.contains("Boston Depot"), "{fields:?}");
    assert!(!fields[0].message.contains("brake"), "no title: {fields:?}");
    let err = app
        .call(&olga, tina_on(Some(truck), Some(engine), None))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    // Dan may not view Boston's work orders: the same names are a 403 to him, before any 422,
    // naming no title.
    let err = app
        .call(&dan, tina_on(None, Some(brakes), Some(denver)))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN, "{err}");
    assert!(!err.to_string().contains("brake"), "{err}");

    // Denver's work order: Maria (Northeast) may not view it, so may not ask about it.
    let err = app
        .call(&maria, tina_on(None, Some(engine), None))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN, "{err}");
    // Dan about himself on his Denver work order: allowed; about himself on Boston's truck
    // (which he may not view) or about Tina: refused.
    let himself = |vehicle, work_order| Troubleshoot {
        user: "dan@acme.test".into(),
        ..tina_on(vehicle, work_order, None)
    };
    let a = app
        .call(&dan, himself(None, Some(engine)))
        .await
        .expect("Dan about himself");
    assert!(a.explanation.decision.is_allowed());
    assert_eq!(a.explanation.scope.id, denver);
    let err = app
        .call(&dan, himself(Some(truck), None))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN, "{err}");
    let AppError::Forbidden {
        denial: Some(d), ..
    } = &err
    else {
        panic!("a denial to explain: {err:?}")
    };
    assert_eq!(d.permission, Permission::VehiclesView);
    let err = app
        .call(&dan, tina_on(None, Some(engine), None))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN, "{err}");

    // Operator staff see the work order by number, never its title.
    let support = app.sign_in("support@fleetgate.test").await;
    let a = app
        .call(&support, tina_on(None, Some(brakes), None))
        .await
        .expect("Support asks about Tina on the work order");
    let label = a.about.expect("named").label;
    assert_eq!(label, format!("work order #{brakes}"));

    // Another organisation's vehicle or work order, or none at all: not found.
    for (vehicle, work_order) in [(Some(truck), None), (None, Some(brakes)), (None, Some(0))] {
        let himself = Troubleshoot {
            user: "gary@globex.test".into(),
            ..tina_on(vehicle, work_order, None)
        };
        let err = app.call(&gary, himself).await.unwrap_err();
        assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
    }

    // Compared on Denver's work order: Dan completes there, Tina does not.
    let diff = app
        .call(&olga, tina_and_dan(Some(engine)))
        .await
        .expect("Olga compares on the work order");
    assert_eq!(diff.scope.map(|s| s.id), Some(denver));
    assert!(
        diff.differences.iter().any(|d| {
            d.permission == Permission::WorkOrdersComplete && d.holder == "Dan Brooks"
        })
    );
}
