//! Mail through a real SMTP server (Debian's aiosmtpd, a child process writing a maildir): while
//! the server is away a request still succeeds at once and its message waits in the outbox,
//! retried; once the server is up, the message is delivered and its link works.

use crate::lifecycle::{MailedLink, links_in_dir, mail_tuning};
use crate::support::{Backend, NoSession, TestApp, TestDb, session_cookie, test_config};
use app::api::auth::CurrentUser;
use app::api::invitations::{AcceptInvitation, InviteMember};
use backend::entity::mail_outbox;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

on_both_databases!(mail_waits_for_the_smtp_server_then_delivers_a_working_link);

const POLL: Duration = Duration::from_millis(50);

/// An aiosmtpd process storing every message it accepts in a maildir; killed when dropped.
struct SmtpServer {
    child: Child,
    maildir: PathBuf,
}

impl SmtpServer {
    /// Starts it on `127.0.0.1:port` and waits (up to 10 s) until it accepts connections.
    fn start(port: u16, maildir: &Path) -> SmtpServer {
        let child = Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("/usr/bin/python3 -m aiosmtpd (Debian package python3-aiosmtpd)");
        let server = SmtpServer {
            child,
            maildir: maildir.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start in 10 s");
            std::thread::sleep(POLL);
        }
        server
    }

    /// The links in the messages it received for `to`.
    fn links_to(&self, to: &str) -> Vec<MailedLink> {
        links_in_dir(&self.maildir.join("new"), to)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on (yet).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The outbox row of the message to `to`, once `done` holds for it (up to `within`).
async fn outbox_row_when(
    app: &TestApp,
    to: &str,
    within: Duration,
    what: &str,
    done: impl Fn(&mail_outbox::Model) -> bool,
) -> mail_outbox::Model {
    let deadline = Instant::now() + within;
    loop {
        let row = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::Recipient.eq(to))
            .one(&app.state.db)
            .await
            .unwrap();
        if let Some(row) = row.filter(|r| done(r)) {
            return row;
        }
        assert!(
            Instant::now() < deadline,
            "the message to {to} never {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

async fn mail_waits_for_the_smtp_server_then_delivers_a_working_link(backend: Backend) {
    const SALLY: &str = "sally@acme.test";
    let port = free_port();
    let db = TestDb::create(backend).await;
    let (mut config, secret) = test_config(&db);
    config.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    let app = TestApp::start(db, &config, &secret, mail_tuning()).await;
    let olga = app.sign_in("olga@acme.test").await;
    let northeast = app.team_id("Northeast Region").await;

    // No mail server: the invitation is made at once all the same.
    let started = Instant::now();
    let invite = InviteMember {
        team: northeast,
        name: "Sally Smith".into(),
        email: SALLY.into(),
        role: "technician".into(),
    };
    app.call(&olga, invite)
        .await
        .expect("inviting does not wait for mail");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // The worker tries, fails, records why, and keeps the message.
    let failed = outbox_row_when(&app, SALLY, Duration::from_secs(10), "failed", |r| {
        r.attempts > 0 && r.last_error.is_some()
    })
    .await;
    assert_eq!(failed.sent_at, None);
    assert!(
        failed.body.contains("/invite/"),
        "the message is kept whole"
    );
    let error = failed.last_error.unwrap();
    assert!(error.contains("mail server"), "{error}");
    assert!(
        !error.contains("/invite/"),
        "the error never holds the link"
    );
    // A second attempt fails too (retried with backoff), and still nothing is lost.
    let retried = outbox_row_when(&app, SALLY, Duration::from_secs(10), "was retried", |r| {
        r.attempts > 1
    })
    .await;
    assert_eq!(retried.sent_at, None);
    // Nothing went to the file outbox: SMTP is configured.
    assert!(links_in_dir(&config.data_dir.join("outbox"), SALLY).is_empty());

    // The mail server comes up on that port: the message is delivered.
    let smtp = SmtpServer::start(port, &app.db.dir.join("maildir"));
    let sent = outbox_row_when(&app, SALLY, Duration::from_secs(30), "was delivered", |r| {
        r.sent_at.is_some()
    })
    .await;
    assert_eq!(sent.body, "", "a delivered message's body is erased");
    assert_eq!(sent.last_error, None);
    assert!(sent.attempts >= 2, "{}", sent.attempts);

    let deadline = Instant::now() + Duration::from_secs(10);
    let link = loop {
        if let Some(l) = smtp.links_to(SALLY).pop() {
            break l;
        }
        assert!(
            Instant::now() < deadline,
            "no message to {SALLY} in the maildir"
        );
        tokio::time::sleep(POLL).await;
    };
    assert_eq!(smtp.links_to(SALLY).len(), 1, "delivered once");
    assert_eq!(link.url, format!("{}/invite/{}", app.base, link.token));

    // The link accepts the invitation and signs Sally in.
    let accept = AcceptInvitation {
        token: link.token.clone(),
        password: "sallys-own-passphrase".into(),
        confirm: "sallys-own-passphrase".into(),
    };
    let res = app.call_raw(NoSession, accept).await;
    assert_eq!(res.status(), StatusCode::OK);
    let sally = session_cookie(&res).expect("a session");
    let me = app.call(&sally, CurrentUser {}).await.expect("Sally");
    assert_eq!(me.full_name, "Sally Smith");
}
