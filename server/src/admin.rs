//! `create-admin`: an operator Admin account, with the password read from a prompt or stdin.

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
    Ok(u)
}
