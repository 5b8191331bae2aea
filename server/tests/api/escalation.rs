//! No escalation by any path, through the real HTTP API on SQLite and PostgreSQL: holding
//! `members.manage` on a team does not let anyone join it (or put someone in it) when the team
//! grants what they lack there, nor grant that onward; concurrent duplicate adds and grants are
//! one row, never a 500.

use crate::support::{Backend, Session, TestApp};
use app::api::teams::{AddMember, GrantPermission, RevokePermission, TeamMembers};
use app::error::AppError;
use backend::entity::{audit_event, membership, team_permission};
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

async fn members(app: &TestApp, who: &Session, team: i32) -> app::model::TeamMembers {
    app.call(who, TeamMembers { team })
        .await
        .expect("the team's members")
}

/// Olga (root) moves `org.settings` from Northeast Region down to Boston Depot: Maria still
/// holds `members.manage` on Boston, but no longer everything Boston grants.
async fn boston_grants_what_maria_lacks(app: &TestApp) {
    let olga = app.sign_in("olga@acme.test").await;
    let revoke = RevokePermission {
        team: app.team_id("Northeast Region").await,
        permission: "org.settings".into(),
    };
    app.call(&olga, revoke).await.expect("permissions/revoke");
    let grant = GrantPermission {
        team: app.team_id("Boston Depot").await,
        permission: "org.settings".into(),
    };
    app.call(&olga, grant).await.expect("permissions/grant");
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
        .get(&format!("/teams/{boston}"), &maria)
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
        let add = AddMember { team: boston, user };
        let err = app.call(&maria, add).await.unwrap_err();
        assert_eq!(err.status(), StatusCode::FORBIDDEN, "adding {who}");
        let AppError::Forbidden {
            message,
            denial: Some(denial),
        } = err
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
    let onward = GrantPermission {
        team: northeast,
        permission: "org.settings".into(),
    };
    let err = app.call(&maria, onward).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    assert!(err.to_string().contains("no escalation"));
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
        .get(&format!("/teams/{northeast}"), &maria)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Add member") && !html.contains("why-add"));
    let add_dan = AddMember {
        team: northeast,
        user: dan_id,
    };
    app.call(&maria, add_dan)
        .await
        .expect("Maria adds Dan to Northeast");
    assert!(is_member(&app, dan_id, northeast).await);
    assert_eq!(audit_rows(&app, "members/add", "success").await, 1);
    // …and Olga, who holds everything Boston grants, may add Maria to Boston.
    let olga = app.sign_in("olga@acme.test").await;
    let add_maria = AddMember {
        team: boston,
        user: maria_id,
    };
    app.call(&olga, add_maria)
        .await
        .expect("Olga adds Maria to Boston");
    assert!(is_member(&app, maria_id, boston).await);
}

async fn concurrent_duplicate_adds_and_grants_are_one_row(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let maria = app.sign_in("maria@acme.test").await;
    let northeast = app.team_id("Northeast Region").await;
    let boston = app.team_id("Boston Depot").await;
    let dan = app.user_id("dan@acme.test").await;

    let add = AddMember {
        team: northeast,
        user: dan,
    };
    for answer in app.call_all_at_once(&maria, vec![add; 6]).await {
        answer.expect("every add succeeds");
    }
    assert!(is_member(&app, dan, northeast).await);
    assert_eq!(audit_rows(&app, "members/add", "success").await, 1);

    let grant = GrantPermission {
        team: boston,
        permission: "work_orders.complete".into(),
    };
    for answer in app.call_all_at_once(&maria, vec![grant; 6]).await {
        answer.expect("every grant succeeds");
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
