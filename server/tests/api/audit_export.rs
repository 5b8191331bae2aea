//! The audit log, out (DESIGN.md "Audit out"), over real HTTP on SQLite and PostgreSQL: an
//! export as JSON Lines or CSV with each row's chain hash, checked offline by
//! `server audit verify --file`, which fails once one byte is changed; who may export what.

use crate::support::{Backend, Session, TestApp, every_event, view_as_cookie};
use app::api::audit_log::AuditList;
use app::api::impersonation::StartImpersonation;
use app::api::teams::PermissionMatrix;
use backend::entity::audit_event;
use reqwest::{StatusCode, header};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

on_both_databases!(
    an_export_verifies_offline_and_not_after_one_byte_changes,
    who_may_export_what,
    the_audit_page_filters_by_name_action_and_time_and_pages,
);

async fn export(app: &TestApp, who: &Session, query: &str) -> reqwest::Response {
    app.get(&format!("/audit/export?{query}"), who).await
}

/// Runs `server audit verify --file <path>`: whether it passed, and what it said.
async fn verify_file(path: &std::path::Path, filtered: bool) -> (bool, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.args(["audit", "verify", "--file"]).arg(path);
    if filtered {
        cmd.arg("--filtered");
    }
    let out = cmd
        .env("RUST_LOG", "warn")
        // No database at all: the check is offline.
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .await
        .expect("the CLI runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

async fn an_export_verifies_offline_and_not_after_one_byte_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    // Some history: denials, an impersonation start with a reason.
    for _ in 0..3 {
        let _ = app.call_raw(&tina, PermissionMatrix {}).await;
    }
    let tina_id = app.user_id("tina@acme.test").await;
    let res = app
        .call_raw(
            &admin,
            StartImpersonation {
                user: tina_id,
                reason: "Ticket SUP-5: \"quoted\", with a comma".into(),
                ticket: "SUP-5".into(),
                mode: "view".into(),
                minutes: String::new(),
            },
        )
        .await;
    assert!(view_as_cookie(&res).is_some());

    let res = export(&app, &admin, "format=jsonl").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/x-ndjson");
    let body = res.text().await.unwrap();
    let rows = audit_event::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        body.lines().count() as u64,
        rows,
        "every row, the export's own included"
    );
    let dir = tempfile_dir();
    let path = dir.join("export.jsonl");
    std::fs::write(&path, &body).unwrap();
    let (ok, said) = verify_file(&path, false).await;
    assert!(ok, "{said}");
    assert!(said.contains(&format!("{rows} events")), "{said}");

    // One byte changed, anywhere in a row's content: the check fails and names the line.
    let at = body.find("SUP-5").expect("the ticket in the export");
    let mut tampered = body.clone().into_bytes();
    tampered[at + 4] = b'6';
    std::fs::write(&path, &tampered).unwrap();
    let (ok, said) = verify_file(&path, false).await;
    assert!(!ok && said.contains("BROKEN"), "{said}");
    // A row taken out of the middle breaks the link to it.
    let without: Vec<&str> = body
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&path, without.join("\n")).unwrap();
    let (ok, said) = verify_file(&path, false).await;
    assert!(!ok && said.contains("does not follow"), "{said}");

    // CSV: a header and a record per row, the quoted reason kept whole.
    let res = export(&app, &admin, "format=csv").await;
    assert_eq!(res.status(), StatusCode::OK);
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with("id,occurred_at,"));
    // The fields cell is their JSON array, CSV-quoted: a quote inside is escaped twice over.
    assert!(csv.contains(r#"\""quoted\"", with a comma"#), "{csv}");
    // Filtered: only what was asked for, still verifying row by row.
    let res = export(&app, &admin, "action=impersonation.start").await;
    let only = res.text().await.unwrap();
    assert_eq!(only.lines().count(), 1);
    std::fs::write(&path, &only).unwrap();
    let (ok, said) = verify_file(&path, true).await;
    assert!(ok, "{said}");
    // As a complete export it does not verify: the rows before it are missing.
    let (ok, _) = verify_file(&path, false).await;
    assert!(!ok);
    let _ = std::fs::remove_dir_all(dir);
}

async fn who_may_export_what(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let gary = app.sign_in("gary@globex.test").await;
    let _ = app.call_raw(&gary, PermissionMatrix {}).await;
    let _ = app.call_raw(&tina, PermissionMatrix {}).await;
    // Olga (audit.view on Acme) gets Acme's rows only.
    let res = export(&app, &olga, "format=jsonl").await;
    assert_eq!(res.status(), StatusCode::OK);
    let acme = app.user_id("olga@acme.test").await;
    let acme_org = backend::entity::user::Entity::find_by_id(acme)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .organisation_id;
    let body = res.text().await.unwrap();
    assert!(!body.is_empty());
    for line in body.lines() {
        let row: backend::audit_export::ExportRow = serde_json::from_str(line).unwrap();
        assert_eq!(row.organisation_id, Some(acme_org), "{line}");
    }
    // Asking for another organisation changes nothing for a customer.
    let res = export(&app, &olga, "organisation=1").await;
    for line in res.text().await.unwrap().lines() {
        assert!(line.contains(&format!("\"organisation_id\":{acme_org}")));
    }
    // Tina (no audit.view) is refused with the reason; the refusal is on the log.
    let res = export(&app, &tina, "format=csv").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("audit.view"));
    let denied = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("audit/export"))
        .filter(audit_event::Column::Outcome.eq("denied"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(denied, 1);
    // Bad input: a clear error.
    let res = export(&app, &admin, "format=xml").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = export(&app, &admin, "from=yesterday").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Not in someone else's name: the admin viewing as Olga cannot export Acme's log.
    let olga_id = app.user_id("olga@acme.test").await;
    let res = app
        .call_raw(
            &admin,
            StartImpersonation {
                user: olga_id,
                reason: "Ticket SUP-6: checking the export".into(),
                ticket: String::new(),
                mode: "view".into(),
                minutes: String::new(),
            },
        )
        .await;
    let viewing = admin.viewing_as(&view_as_cookie(&res).unwrap());
    let res = export(&app, &viewing, "format=jsonl").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // No session: to the sign-in page.
    let res = app.get("/audit/export", crate::support::NoSession).await;
    assert!(res.status().is_redirection());
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fleetgate-export-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn the_audit_page_filters_by_name_action_and_time_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.sign_in("admin@fleetgate.test").await;
    let olga = app.sign_in("olga@acme.test").await;
    let tina = app.sign_in("tina@acme.test").await;
    let gary = app.sign_in("gary@globex.test").await;
    for _ in 0..105 {
        let _ = app.call_raw(&tina, PermissionMatrix {}).await;
    }
    // Refused (and so on the log): the operator console.
    let _ = app.call_raw(&gary, app::api::admin::AdminOrgs {}).await;
    let list = |f: fn(&mut AuditList)| {
        let mut q = every_event();
        f(&mut q);
        q
    };
    // By a person's name (part of it), case-insensitively: Tina's events only.
    let page = app
        .call(&admin, list(|q| q.person = Some("tina ngu".into())))
        .await
        .unwrap();
    assert_eq!(page.events.len(), 100, "a page of 100");
    assert!(
        page.events
            .iter()
            .all(|e| e.actor.as_deref() == Some("Tina Nguyen"))
    );
    // Older events: the next page, then none.
    let before = page.older.expect("an older page");
    let mut q = list(|q| q.person = Some("tina ngu".into()));
    q.before = Some(before);
    let older = app.call(&admin, q).await.unwrap();
    assert_eq!(older.events.len(), 5);
    assert_eq!(older.older, None);
    assert!(older.events.iter().all(|e| e.id < before));
    // By organisation name (operator staff), and by action.
    let page = app
        .call(&admin, list(|q| q.org = Some("globex".into())))
        .await
        .unwrap();
    assert_eq!(page.events.len(), 1);
    assert_eq!(
        page.events[0].organisation.as_deref(),
        Some("Globex Transport")
    );
    let page = app
        .call(&admin, list(|q| q.action = Some("teams/matrix".into())))
        .await
        .unwrap();
    assert_eq!(page.events.len(), 100);
    // By time: nothing before today, everything from today.
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let mut q = list(|q| q.to = Some("2000-01-01".into()));
    q.person = None;
    assert!(app.call(&admin, q).await.unwrap().events.is_empty());
    let mut q = every_event();
    q.from = Some(today);
    assert_eq!(app.call(&admin, q).await.unwrap().events.len(), 100);
    let e = app
        .call(&admin, list(|q| q.from = Some("last week".into())))
        .await
        .unwrap_err();
    assert!(e.field_message("from").is_some(), "{e:?}");
    // A customer searching for another organisation's person finds nothing of theirs.
    let page = app
        .call(&olga, list(|q| q.person = Some("gary".into())))
        .await
        .unwrap();
    assert!(page.events.is_empty());
}
