//! Taking access away at once: every session of a user (or of every user of an organisation)
//! ends, and every impersonation of them, each with its end record, inside the caller's
//! transaction. Each request checks its session row, so this holds on every instance.

use crate::audit::AuditedTxn;
use crate::entity::{session, user};
use crate::impersonation::ending::{self, Ending};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

/// Ends every live session of `user_id` and every impersonation of them; `why` goes on the
/// end records ("the user was deactivated").
pub async fn end_access_of_user(txn: &AuditedTxn, user_id: i32, why: &str) -> Result<(), DbErr> {
    let ended = Ending::RuleBroken(why.to_owned());
    ending::end_of_user(txn, user_id, &ended).await?;
    let own = session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::ActorUserId.is_null())
        .filter(session::Column::RevokedAt.is_null())
        .all(&**txn)
        .await?;
    let signed_out = Ending::RuleBroken(format!("the session it was started from ended: {why}"));
    for s in own {
        crate::session::revoke_in(txn, &s.id, &signed_out).await?;
    }
    Ok(())
}

/// The same for every user of organisation `org` (suspension): only their live sessions are
/// read, however many people the organisation has.
pub async fn end_access_of_organisation(
    txn: &AuditedTxn,
    org: i32,
    why: &str,
) -> Result<(), DbErr> {
    let users_of_org = Query::select()
        .column(user::Column::Id)
        .from(user::Entity)
        .and_where(user::Column::OrganisationId.eq(org))
        .to_owned();
    let live = session::Entity::find()
        .filter(session::Column::UserId.in_subquery(users_of_org))
        .filter(session::Column::RevokedAt.is_null())
        .all(&**txn)
        .await?;
    let mut users: Vec<i32> = live.iter().map(|s| s.user_id).collect();
    users.sort_unstable();
    users.dedup();
    for u in users {
        end_access_of_user(txn, u, why).await?;
    }
    Ok(())
}
