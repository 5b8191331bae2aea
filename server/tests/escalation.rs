//! No escalation by any path, through the real HTTP API on SQLite and PostgreSQL: holding
//! `members.manage` on a team does not let anyone join it (or put someone in it) when the team
//! grants what they lack there, nor grant that onward; concurrent duplicate adds and grants are
//! one row, never a 500.

mod common;

use app::error::AppError;
use app::model::TeamMembers;
use backend::entity::{audit_event, membership, team_permission};
use common::{Backend, TestApp, app_error};
use domain::authz::{GrantRefusal, Permission};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

on_both_databases!(
    members_manage_does_not_let_maria_join_a_team_whose_grants_she_lacks,
    concurrent_duplicate_adds_and_grants_are_one_row,
);

async fn audit_rows(app: &TestApp, action: &str, outcome: &str) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .filter(audit_event::Column::Outcome.eq(outcome))
        .count(&app.state.db)
        .await
        .unwrap()
}

async fn is_member(app: &TestApp, user: i32, team: i32) -> bool {
    membership::Entity::find()
        .filter(membership::Column::UserId.eq(user))
        .filter(membership::Column::TeamId.eq(team))
        .count(&app.state.db)
        .await
        .unwrap()
        == 1
}

async fn members(app: &TestApp, cookie: &str, team: i32) -> TeamMembers {
    let res = app
        .call(
            "teams/members",
            Some(cookie),
            &[("team", &team.to_string())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// Olga (root) moves `org.settings` from Northeast Region down to Boston Depot: Maria still
/// holds `members.manage` on Boston, but no longer everything Boston grants.
async fn boston_grants_what_maria_lacks(app: &TestApp) {
    let olga = app.sign_in("olga@acme.test").await;
    for (endpoint, team) in [
        ("permissions/revoke", "Northeast Region"),
        ("permissions/grant", "Boston Depot"),
    ] {
        let team = app.team_id(team).await.to_string();
        let res = app
            .call(
                endpoint,
                Some(&olga),
                &[("team", &team), ("permission", "org.settings")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{endpoint}");
    }
}

async fn members_manage_does_not_let_maria_join_a_team_whose_grants_she_lacks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    boston_grants_what_maria_lacks(&app).await;
    let maria = app.sign_in("maria@acme.test").await;
    let (boston, northeast) = (
        app.team_id("Boston Depot").await,
        app.team_id("Northeast Region").await,
    );
    let (maria_id, dan_id) = (
        app.user_id("maria@acme.test").await,
        app.user_id("dan@acme.test").await,
    );

    // The members page already says why Add is off, and offers nobody.
    let page = members(&app, &maria, boston).await;
    assert!(page.manage.is_allowed(), "she may still remove members");
    let Some(GrantRefusal::Escalation(d)) = &page.add_locked else {
        panic!("Add must be locked as an escalation: {:?}", page.add_locked)
    };
    assert_eq!(
        (d.permission, d.scope.name.as_str()),
        (Permission::OrgSettings, "Boston Depot")
    );
    assert!(page.candidates.is_empty());
    // The page renders it greyed, with the reason beside it.
    let html = app
        .get(&format!("/teams/{boston}"), Some(&maria))
        .await
        .text()
        .await
        .unwrap();
    let add = html
        .find("aria-describedby=\"why-add\"")
        .expect("a greyed Add");
    let button = &html[html[..add].rfind("<button").unwrap()..];
    assert!(
        button[..button.find('>').unwrap()].contains("disabled"),
        "{button}"
    );
    assert!(html.contains("(org.settings) on Boston Depot"), "{html}");

    // The attack: adding herself, or anyone, is refused with the explanation, writes nothing
    // and is audited as a denial.
    for (who, user) in [("herself", maria_id), ("Dan", dan_id)] {
        let res = app
            .call(
                "members/add",
                Some(&maria),
                &[("team", &boston.to_string()), ("user", &user.to_string())],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "adding {who}");
        let AppError::Forbidden {
            message,
            denial: Some(denial),
        } = app_error(res).await
        else {
            panic!("a denial with its explanation")
        };
        assert_eq!(denial.permission, Permission::OrgSettings);
        assert_eq!(denial.scope.id, boston);
        for part in [
            "org.settings",
            "Boston Depot",
            "no escalation",
            "Acme Logistics",
        ] {
            assert!(message.contains(part), "{part} in: {message}");
        }
        assert!(!is_member(&app, user, boston).await, "adding {who}");
    }
    assert_eq!(audit_rows(&app, "members/add", "denied").await, 2);
    assert_eq!(audit_rows(&app, "members/add", "success").await, 0);
    let detail = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("members/add"))
        .filter(audit_event::Column::Outcome.eq("denied"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let fields = backend::audit::Details::from_stored(detail.fields.as_deref()).expect("fields");
    assert_eq!(
        fields.get(backend::audit::Field::Permission),
        Some("org.settings")
    );

    // …nor can she grant it onward, where she manages grants.
    let res = app
        .call(
            "permissions/grant",
            Some(&maria),
            &[
                ("team", &northeast.to_string()),
                ("permission", "org.settings"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(app_error(res).await.to_string().contains("no escalation"));
    let granted = team_permission::Entity::find()
        .filter(team_permission::Column::TeamId.eq(northeast))
        .filter(team_permission::Column::Permission.eq("org.settings"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(granted, 0);
    assert_eq!(audit_rows(&app, "permissions/grant", "denied").await, 1);

    // The twins: Northeast grants only what she holds, so she may add Dan there…
    let page = members(&app, &maria, northeast).await;
    assert_eq!(page.add_locked, None);
    assert!(page.candidates.iter().any(|c| c.id == dan_id));
    let html = app
        .get(&format!("/teams/{northeast}"), Some(&maria))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Add member") && !html.contains("why-add"));
    let res = app
        .call(
            "members/add",
            Some(&maria),
            &[
                ("team", &northeast.to_string()),
                ("user", &dan_id.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(is_member(&app, dan_id, northeast).await);
    assert_eq!(audit_rows(&app, "members/add", "success").await, 1);
    // …and Olga, who holds everything Boston grants, may add Maria to Boston.
    let olga = app.sign_in("olga@acme.test").await;
    let res = app
        .call(
            "members/add",
            Some(&olga),
            &[
                ("team", &boston.to_string()),
                ("user", &maria_id.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(is_member(&app, maria_id, boston).await);
}

async fn concurrent_duplicate_adds_and_grants_are_one_row(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let northeast = app.team_id("Northeast Region").await.to_string();
    let boston = app.team_id("Boston Depot").await;
    let dan = app.user_id("dan@acme.test").await;
    let dan_id = dan.to_string();

    let adds = app
        .call_in_parallel(
            6,
            "members/add",
            &maria,
            &[("team", &northeast), ("user", &dan_id)],
        )
        .await;
    for (status, body) in adds {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert!(is_member(&app, dan, app.team_id("Northeast Region").await).await);
    assert_eq!(audit_rows(&app, "members/add", "success").await, 1);

    let boston_id = boston.to_string();
    let grants = app
        .call_in_parallel(
            6,
            "permissions/grant",
            &maria,
            &[("team", &boston_id), ("permission", "work_orders.complete")],
        )
        .await;
    for (status, body) in grants {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let rows = team_permission::Entity::find()
        .filter(team_permission::Column::TeamId.eq(boston))
        .filter(team_permission::Column::Permission.eq("work_orders.complete"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    assert_eq!(audit_rows(&app, "permissions/grant", "success").await, 1);
}
