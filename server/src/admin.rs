//! `create-admin`: an operator Admin account, with the password read from a prompt or stdin;
//! `create-org`: a customer organisation and its first Fleet Manager's invitation.

use anyhow::{Context, bail};
use backend::directory::{self, NewUser};
use backend::entity::{organisation, team, user};
use domain::authz::templates;
use domain::people::{Email, OrgKind, Role};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait};
use std::io::{BufRead, IsTerminal};

/// The shortest password accepted for an operator account.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Reads the password: hidden prompt on a terminal, else the first line of stdin. Never argv.
pub fn read_password() -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password for the new admin: ")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.chars().count() < MIN_PASSWORD_LEN {
        bail!("the password needs at least {MIN_PASSWORD_LEN} characters");
    }
    if password.len() > backend::password::MAX_PASSWORD_LEN {
        bail!("the password is too long");
    }
    Ok(password)
}

/// Creates an Admin in the operator organisation (created with its root team if missing).
pub async fn create_admin(
    db: &DatabaseConnection,
    email: &str,
    full_name: &str,
    password: String,
) -> anyhow::Result<user::Model> {
    let email = Email::parse(email).context("invalid e-mail")?;
    if full_name.trim().is_empty() {
        bail!("a full name is required");
    }
    if user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        bail!("a user with the e-mail {email} already exists");
    }
    let hash = backend::password::hash(password).await?;
    let txn = db.begin().await?;
    let org = match organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(OrgKind::Operator.key()))
        .one(&txn)
        .await?
    {
        Some(o) => o,
        None => directory::create_organisation(&txn, "Fleetgate", OrgKind::Operator).await?,
    };
    let root = match team::Entity::find()
        .filter(team::Column::OrganisationId.eq(org.id))
        .filter(team::Column::ParentId.is_null())
        .one(&txn)
        .await?
    {
        Some(t) => t,
        None => {
            let t = directory::create_team(&txn, org.id, None, &org.name).await?;
            directory::grant(&txn, org.id, t.id, templates::operator_admin(), None).await?;
            t
        }
    };
    let u = directory::create_user(
        &txn,
        NewUser {
            organisation_id: org.id,
            email: &email,
            full_name: full_name.trim(),
            role: Role::Admin,
            password_hash: hash,
        },
    )
    .await?;
    directory::add_member(&txn, org.id, u.id, root.id).await?;
    txn.commit().await?;
    // The operator organisation's authorisation version moved: a running server must not
    // authenticate its sessions from rows read before.
    backend::auth_epoch::changed(db)?;
    Ok(u)
}

/// Whether nobody has an account yet (a fresh production install).
pub async fn no_users(db: &DatabaseConnection) -> anyhow::Result<bool> {
    use sea_orm::PaginatorTrait;
    Ok(user::Entity::find().count(db).await? == 0)
}

/// What a fresh production install tells its operator at start-up.
pub fn first_admin_hint() -> String {
    "No one can sign in yet: this database has no users. Create the first operator Admin with \
     `server create-admin --email <address> --name <full name>` (the password is asked for), \
     then onboard customers from the admin console or with `server create-org`."
        .to_owned()
}

/// Onboards a customer organisation from the command line (`backend::onboarding`, as the
/// admin console does), audited without an actor.
pub async fn create_org(
    db: &DatabaseConnection,
    config: &crate::config::Config,
    name: &str,
    manager_name: &str,
    manager_email: &str,
) -> anyhow::Result<backend::onboarding::Onboarded> {
    use backend::audit::{Details, Entry, Field, Outcome, Resource};
    use backend::onboarding::{NewCustomer, create_customer};
    let name = domain::validate::required(name, "the organisation's name", 200)
        .map_err(anyhow::Error::msg)?;
    let manager_name = domain::validate::required(manager_name, "the manager's name", 200)
        .map_err(anyhow::Error::msg)?;
    let email = Email::parse(manager_email).context("invalid manager e-mail")?;
    let base = config.links_base(config.addr);
    let txn = backend::audit::begin(db).await?;
    let done = create_customer(
        &*txn,
        NewCustomer {
            name: &name,
            manager_name: &manager_name,
            manager_email: &email,
            invited_by: None,
        },
        &base,
    )
    .await?;
    txn.commit_with(Entry {
        organisation_id: Some(done.organisation.id),
        actor_user_id: None,
        subject_user_id: None,
        impersonation_id: None,
        action: "cli/create-org".to_owned(),
        resource: Some(Resource::Organisation(done.organisation.id).to_string()),
        outcome: Outcome::Success,
        details: Details::new()
            .with(Field::Change, "created")
            .with(Field::Name, name)
            .with(Field::Email, email.as_str()),
    })
    .await?;
    Ok(done)
}
