//! The access troubleshooter: why a user may or may not do something on a team, the smallest
//! fixes and who may apply them, who can, what can, and two users compared — answered from the
//! permission graph (`domain::authz::troubleshoot`), never by viewing as anyone.
//!
//! Who may ask (DESIGN.md, "Access troubleshooter"): operator staff holding
//! `access.troubleshoot`, about any customer user; a customer user about people and teams where
//! they hold `teams.view`; everyone about themselves. Answers never cross organisations: another
//! organisation's user or team is not found. Every question about someone else is audited.
//! Applying a fix re-computes the fixes from the state as it is inside the write's transaction
//! and goes through the same writes and no-escalation re-check as granting and adding a member.

use crate::api::policy::Requirement::SignedIn;
use crate::api::policy::{Declared, Policy, own_name_only, read};
use crate::error::AppError;
use crate::model::{CompareAnswer, TroubleshootAnswer, WhatCanAnswer};
use leptos::prelude::*;

impl Declared for Troubleshoot {
    const POLICY: Policy = read::<Self>(SignedIn);
}

/// Why `user` (an e-mail) may or may not use `permission` on `team`, or on a `vehicle` or a
/// `work_order` (which means its owning team; their organisation's root without any): the
/// decision and its path, the fixes of a denial, and who holds it there.
#[server(endpoint = "troubleshoot")]
pub async fn troubleshoot(
    user: String,
    permission: String,
    team: Option<i32>,
    vehicle: Option<i32>,
    work_order: Option<i32>,
) -> Result<TroubleshootAnswer, AppError> {
    use crate::api::guard::Guard;
    use crate::model::HolderView;
    use domain::authz::{explain, fixes, who_can};

    let g = Guard::enter::<Troubleshoot>().await?;
    let permission = server::permission(&permission)?;
    let subject = server::subject(&g, &user).await?;
    let org = server::Org::load(&g, &subject).await?;
    let mut asked = server::Asked {
        team,
        vehicle,
        work_order,
    };
    if asked.is_empty() {
        asked.team = Some(org.policy.tree.root());
    }
    let server::Scope { team, about } = org.scope_of(&g, &[&subject], asked).await?;
    let scope = team.unwrap_or(org.policy.tree.root());
    let memberships = org.people.members.teams_of(subject.id).to_vec();
    let explanation = explain(&org.policy, &memberships, permission, scope);
    let fixes = if subject.active {
        fixes(
            &org.policy,
            &org.people.members,
            &org.counts,
            subject.id,
            permission,
            scope,
        )
    } else {
        Vec::new()
    };
    let fixes = fixes
        .into_iter()
        .map(|f| server::fix_view(&g, &org, &subject, f))
        .collect();
    let who_can = who_can(&org.policy, &org.people.members, permission, scope)
        .into_iter()
        .map(|h| {
            let (name, email) = org.name_of(h.user);
            HolderView {
                name,
                email,
                through: h.through,
            }
        })
        .collect();
    server::asked(&g, &subject, Some(permission), Some(scope), about.as_ref()).await;
    // The link asks the very question: about the vehicle or work order when it named one.
    let (param, id) = match &about {
        Some(a) => (a.param.as_str(), a.id),
        None => ("team", scope),
    };
    let link = crate::routes::with_query(
        "/troubleshoot",
        [
            ("user", subject.email.as_str()),
            ("permission", permission.key()),
            (param, id.to_string().as_str()),
        ],
    );
    Ok(TroubleshootAnswer {
        subject: server::person(&subject),
        about,
        explanation,
        fixes,
        who_can,
        link,
    })
}

impl Declared for WhatCan {
    const POLICY: Policy = read::<Self>(SignedIn);
}

/// Everything `user` (an e-mail) may do, per team.
#[server(endpoint = "troubleshoot/what_can")]
pub async fn what_can(user: String) -> Result<WhatCanAnswer, AppError> {
    use crate::api::guard::Guard;

    let g = Guard::enter::<WhatCan>().await?;
    let subject = server::subject(&g, &user).await?;
    let org = server::Org::load(&g, &subject).await?;
    server::may_ask(&g, &subject, &org, None).await?;
    let memberships = org.people.members.teams_of(subject.id).to_vec();
    let teams = domain::authz::what_can(&org.policy, &memberships);
    server::asked(&g, &subject, None, None, None).await;
    Ok(WhatCanAnswer {
        subject: server::person(&subject),
        teams,
    })
}

impl Declared for Compare {
    const POLICY: Policy = read::<Self>(SignedIn);
}

/// What `user` holds that `with` lacks and the other way round, on `team` (or a `vehicle` or a
/// `work_order`: its owning team) or, without any, everywhere in the organisation (each
/// difference where it starts), with the memberships and grants behind each and the fixes that
/// would close it.
#[server(endpoint = "troubleshoot/compare")]
pub async fn compare(
    user: String,
    with: String,
    team: Option<i32>,
    vehicle: Option<i32>,
    work_order: Option<i32>,
) -> Result<CompareAnswer, AppError> {
    use crate::api::guard::Guard;
    use crate::model::DifferenceView;

    let g = Guard::enter::<Compare>().await?;
    let a = server::subject(&g, &user).await?;
    let b = server::subject(&g, &with).await?;
    let org = server::Org::load(&g, &a).await?;
    if b.organisation_id != a.organisation_id {
        return Err(AppError::NotFound {
            what: "User".into(),
        });
    }
    let asked = server::Asked {
        team,
        vehicle,
        work_order,
    };
    let server::Scope { team: scope, about } = org.scope_of(&g, &[&a, &b], asked).await?;
    let differences = domain::authz::compare(
        &org.policy,
        &org.people.members,
        &org.counts,
        a.id,
        b.id,
        scope,
    )
    .into_iter()
    .map(|d| {
        let lacker = if d.lacker == a.id { &a } else { &b };
        DifferenceView {
            holder: org.name_of(d.holder).0,
            lacker: org.name_of(d.lacker).0,
            fixes: d
                .fixes
                .into_iter()
                .map(|f| server::fix_view(&g, &org, lacker, f))
                .collect(),
            team: d.team,
            permission: d.permission,
            holder_through: d.holder_through,
            lacker_member_of: d.lacker_member_of,
            teams: d.teams,
        }
    })
    .collect();
    server::asked(&g, &a, None, scope, about.as_ref()).await;
    server::asked(&g, &b, None, scope, about.as_ref()).await;
    Ok(CompareAnswer {
        a: server::person(&a),
        b: server::person(&b),
        scope: scope.and_then(|s| org.policy.tree.team_ref(s)),
        about,
        differences,
    })
}

impl Declared for ApplyFix {
    // Never in someone else's name: operator staff do not change a customer's grants.
    const POLICY: Policy = own_name_only::<Self>(SignedIn);
}

/// Applies the fix `change` (`join` or `grant`) on `fix_team` to the denial of `permission` on
/// `team` to `user`: only when it is still offered as the state is now (409 otherwise), by
/// someone the no-escalation rule lets make it, through the very writes of adding a member and
/// granting, in one audited transaction.
#[server(endpoint = "troubleshoot/apply")]
pub async fn apply_fix(
    user: String,
    permission: String,
    team: i32,
    change: String,
    fix_team: i32,
) -> Result<(), AppError> {
    server::apply(user, permission, team, change, fix_team).await
}

#[cfg(feature = "ssr")]
mod server {
    use crate::api::guard::{Guard, Resource};
    use crate::error::AppError;
    use crate::model::{AboutView, FixView, PersonName};
    use backend::audit::{Details, Field, Outcome};
    use backend::entity::user;
    use backend::troubleshoot::People;
    use domain::authz::{
        BlastRadius, Change, Fix, Gain, OrgPolicy, Permission, ResourceCounts, TeamId,
    };
    use std::sync::Arc;

    pub(super) fn permission(key: &str) -> Result<Permission, AppError> {
        Permission::from_key(key.trim())
            .map_err(|_| AppError::invalid("permission", "Unknown permission."))
    }

    fn not_found(what: &str) -> AppError {
        AppError::NotFound { what: what.into() }
    }

    /// The user a question is about, by e-mail. Another organisation's is not found, unless the
    /// caller is operator staff holding `access.troubleshoot` (then any customer's is found);
    /// a refusal of that permission comes before anything is looked up.
    pub(super) async fn subject(g: &Guard, email: &str) -> Result<user::Model, AppError> {
        let p = g.principal();
        // No e-mail: the caller themself.
        let email = match email.trim() {
            "" => p.email.as_str(),
            e => e,
        };
        let own = email.eq_ignore_ascii_case(&p.email);
        if p.operator && !own {
            g.require_operator(Permission::AccessTroubleshoot).await?;
        }
        let Ok(parsed) = domain::people::Email::parse(email) else {
            return Err(not_found("User"));
        };
        let found = backend::repo::users::by_email(&g.state().db, &parsed)
            .await?
            .ok_or_else(|| not_found("User"))?;
        if found.id == p.user_id {
            return Ok(found);
        }
        let visible = if p.operator {
            // Any customer user, never a fellow operator's.
            found.organisation_id != p.organisation_id
        } else {
            found.organisation_id == p.organisation_id
        };
        if !visible {
            return Err(not_found("User"));
        }
        Ok(found)
    }

    /// The organisation a question is answered in: its policy (the guard's own when it is the
    /// caller's), its active people and what each team owns.
    pub(super) struct Org {
        pub id: i32,
        pub policy: Arc<OrgPolicy>,
        pub people: People,
        pub counts: Arc<ResourceCounts>,
        /// The caller's own organisation (only its members may apply a fix).
        pub own: bool,
    }

    impl Org {
        pub async fn load(g: &Guard, subject: &user::Model) -> Result<Org, AppError> {
            let db = &g.state().db;
            let id = subject.organisation_id;
            let own = id == g.principal().organisation_id;
            let (policy, operator_org) = if own {
                (g.org_policy(), g.principal().operator)
            } else {
                // Operator staff ask about customers only.
                (Arc::new(backend::access::load_policy(db, id).await?), false)
            };
            Ok(Org {
                id,
                policy,
                people: backend::troubleshoot::load_people(db, id, operator_org).await?,
                counts: g.state().resource_counts.get(db, id).await?,
                own,
            })
        }

        /// The team asked about: `team`, which must be the organisation's, or its root.
        pub fn scope(&self, team: Option<i32>) -> Result<TeamId, AppError> {
            let tree = &self.policy.tree;
            match team {
                None => Ok(tree.root()),
                Some(t) if tree.contains(t) => Ok(t),
                Some(_) => Err(not_found("Team")),
            }
        }

        /// The scope of a question about `subjects`: a team, or a vehicle or a work order (a
        /// work order, then a vehicle, means its owning team), or none (everywhere). Checked in
        /// the order that reveals nothing to whom may not know it: found in the subjects'
        /// organisation (else not found); a customer must be allowed to view the vehicle or work
        /// order (an audited 403, as opening it would be); the caller must be allowed to ask
        /// about each subject there; only then are names that disagree refused (422). The
        /// answer names the thing with its title for a customer, by number for operator staff,
        /// who never see a customer's records.
        pub async fn scope_of(
            &self,
            g: &Guard,
            subjects: &[&user::Model],
            asked: Asked,
        ) -> Result<Scope, AppError> {
            let thing = self.find(g, asked).await?;
            let team = match (&thing, asked.team) {
                (Some(t), _) => Some(t.owner),
                (None, Some(t)) => Some(self.scope(Some(t))?),
                (None, None) => None,
            };
            let operator = g.principal().operator;
            if let Some(t) = thing.as_ref().filter(|_| !operator) {
                g.require(t.view, t.owner, t.resource).await?;
            }
            for subject in subjects {
                may_ask(g, subject, self, team).await?;
            }
            let Some(thing) = thing else {
                return Ok(Scope { team, about: None });
            };
            if thing.on_another_vehicle {
                return Err(AppError::invalid(
                    "vehicle",
                    "That work order is on another vehicle.",
                ));
            }
            if asked.team.is_some_and(|t| t != thing.owner) {
                let owner = self.policy.tree.name(thing.owner).unwrap_or("another team");
                return Err(AppError::invalid(
                    "team",
                    format!(
                        "That {} belongs to {owner}, not to the team asked about.",
                        thing.noun
                    ),
                ));
            }
            let label = if operator {
                format!("{} #{}", thing.noun, thing.id)
            } else {
                format!("{} #{} “{}”", thing.noun, thing.id, thing.title)
            };
            let about = AboutView {
                param: thing.param.into(),
                id: thing.id,
                label,
            };
            Ok(Scope {
                team,
                about: Some(about),
            })
        }

        /// The vehicle or work order a question names, in this organisation (a work order
        /// first); another organisation's, or none, is not found.
        async fn find(&self, g: &Guard, asked: Asked) -> Result<Option<Thing>, AppError> {
            use backend::repo::{vehicles, work_orders};
            use domain::ids::{VehicleId, WorkOrderId};

            let db = &g.state().db;
            let thing = match (asked.vehicle, asked.work_order) {
                (vehicle, Some(id)) => {
                    let w = work_orders::load(db, self.id, WorkOrderId(id)).await?;
                    Thing {
                        param: "work_order",
                        noun: "work order",
                        id,
                        owner: w.team_id,
                        title: w.title,
                        view: Permission::WorkOrdersView,
                        resource: Resource::WorkOrder(WorkOrderId(id)),
                        on_another_vehicle: vehicle.is_some_and(|v| v != w.vehicle_id),
                    }
                }
                (Some(id), None) => {
                    let v = vehicles::load(db, self.id, VehicleId(id)).await?;
                    Thing {
                        param: "vehicle",
                        noun: "vehicle",
                        id,
                        owner: v.team_id,
                        title: v.name,
                        view: Permission::VehiclesView,
                        resource: Resource::Vehicle(VehicleId(id)),
                        on_another_vehicle: false,
                    }
                }
                (None, None) => return Ok(None),
            };
            // Its team must be one of the organisation's (it always is; never trust it).
            self.scope(Some(thing.owner))?;
            Ok(Some(thing))
        }

        pub fn name_of(&self, user: i32) -> (String, String) {
            self.people
                .names
                .get(&user)
                .cloned()
                .unwrap_or_else(|| (format!("user {user}"), String::new()))
        }
    }

    /// What a question names as its scope, each optional.
    #[derive(Clone, Copy)]
    pub(super) struct Asked {
        pub team: Option<i32>,
        pub vehicle: Option<i32>,
        pub work_order: Option<i32>,
    }

    impl Asked {
        pub fn is_empty(&self) -> bool {
            self.team.is_none() && self.vehicle.is_none() && self.work_order.is_none()
        }
    }

    /// What a question is about, once checked: its team (none: everywhere) and the vehicle or
    /// work order it named.
    pub(super) struct Scope {
        pub team: Option<TeamId>,
        pub about: Option<AboutView>,
    }

    /// A vehicle or a work order found for a question.
    struct Thing {
        /// The query parameter that names it.
        param: &'static str,
        noun: &'static str,
        id: i32,
        owner: TeamId,
        /// Its title (a work order) or name (a vehicle).
        title: String,
        /// What viewing it takes.
        view: Permission,
        resource: Resource,
        /// A work order asked about with a vehicle it is not on.
        on_another_vehicle: bool,
    }

    /// Whether the caller may ask about `subject` (and `scope`): themselves always; operator
    /// staff with `access.troubleshoot` (checked in [`subject`]); a customer needs `teams.view`
    /// on the scope and on a team the person is a direct member of. Refusals are audited.
    pub(super) async fn may_ask(
        g: &Guard,
        subject: &user::Model,
        org: &Org,
        scope: Option<TeamId>,
    ) -> Result<(), AppError> {
        let p = g.principal();
        if subject.id == p.user_id || p.operator {
            return Ok(());
        }
        if let Some(s) = scope {
            g.require(Permission::TeamsView, s, Resource::Team(s))
                .await?;
        }
        let teams = org.people.members.teams_of(subject.id);
        if teams.iter().any(|t| g.allows(Permission::TeamsView, *t)) {
            return Ok(());
        }
        let at = teams.first().copied().unwrap_or(org.policy.tree.root());
        g.require(Permission::TeamsView, at, Resource::User(subject.id))
            .await?;
        // Held on the root (a person without teams): visible.
        Ok(())
    }

    /// Records a question about someone else: who asked about whom, and what.
    pub(super) async fn asked(
        g: &Guard,
        subject: &user::Model,
        permission: Option<Permission>,
        scope: Option<TeamId>,
        about: Option<&AboutView>,
    ) {
        use domain::ids::{VehicleId, WorkOrderId};

        if subject.id == g.principal().user_id {
            return;
        }
        let details = Details::new()
            .with(Field::User, Resource::User(subject.id).to_string())
            .with_opt(Field::Permission, permission.map(|p| p.key()))
            .with_opt(Field::Team, scope.map(|t| Resource::Team(t).to_string()));
        let details = match about {
            Some(a) if a.param == "vehicle" => details.with(
                Field::Vehicle,
                Resource::Vehicle(VehicleId(a.id)).to_string(),
            ),
            Some(a) => details.with(
                Field::WorkOrder,
                Resource::WorkOrder(WorkOrderId(a.id)).to_string(),
            ),
            None => details,
        };
        g.audit(Resource::User(subject.id), Outcome::Success, details)
            .await;
    }

    pub(super) fn person(u: &user::Model) -> PersonName {
        PersonName {
            id: u.id,
            name: u.full_name.clone(),
            email: u.email.clone(),
        }
    }

    fn gain_words(g: &Gain) -> String {
        let plural = |n: u64, one: &str, many: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {many}")
            }
        };
        format!(
            "{} on {} ({}, {})",
            g.permission.key(),
            plural(g.teams as u64, "team", "teams"),
            plural(g.vehicles, "vehicle", "vehicles"),
            plural(g.work_orders, "work order", "work orders"),
        )
    }

    fn radius_words(org: &Org, subject: &user::Model, r: &BlastRadius) -> Vec<String> {
        let line = |name: &str, gains: &[Gain]| {
            let gains: Vec<String> = gains.iter().map(gain_words).collect();
            format!("{name} gains {}", gains.join("; "))
        };
        let mut lines = vec![line(&subject.full_name, &r.user)];
        if r.others.is_empty() {
            lines.push("Nobody else gains anything.".into());
        }
        for other in &r.others {
            lines.push(line(&org.name_of(other.user).0, &other.gains));
        }
        lines
    }

    /// A fix as the page shows it; Apply only for a customer of the organisation whom the
    /// no-escalation rule names (never operator staff, never while viewing as someone).
    pub(super) fn fix_view(g: &Guard, org: &Org, subject: &user::Model, f: Fix) -> FixView {
        let p = g.principal();
        let (kind, title) = match &f.change {
            Change::JoinTeam { team, .. } => (
                "join",
                format!("Add {} to {}", subject.full_name, team.name),
            ),
            Change::Grant { team, permission } => (
                "grant",
                format!("Grant {} to {}", permission.key(), team.name),
            ),
        };
        let can_apply =
            org.own && !p.operator && p.impersonation.is_none() && f.appliers.contains(&p.user_id);
        let mut appliers: Vec<String> = f.appliers.iter().map(|u| org.name_of(*u).0).collect();
        appliers.sort();
        FixView {
            kind: kind.into(),
            team: f.change.team().clone(),
            title,
            radius: radius_words(org, subject, &f.blast_radius),
            appliers,
            can_apply,
            change: f.change,
        }
    }

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Kind {
        Join,
        Grant,
    }

    pub(super) async fn apply(
        user: String,
        permission: String,
        team: i32,
        change: String,
        fix_team: i32,
    ) -> Result<(), AppError> {
        use domain::authz::{can_add_member, can_grant};

        let g = Guard::enter::<super::ApplyFix>().await?;
        let p = g.principal();
        if p.operator {
            let e = AppError::Forbidden {
                message: "Operator staff never change a customer's grants: \
                          the people named under the fix can apply it."
                    .into(),
                denial: None,
            };
            g.audit(
                Resource::Unspecified,
                Outcome::Denied,
                Details::why(e.to_string()),
            )
            .await;
            return Err(e);
        }
        let permission = self::permission(&permission)?;
        let kind = match change.as_str() {
            "join" => Kind::Join,
            "grant" => Kind::Grant,
            _ => return Err(AppError::invalid("change", "Choose a fix.")),
        };
        let subject = self::subject(&g, &user).await?;
        let org = p.organisation_id;
        let tree = g.tree();
        if !tree.contains(team) || !tree.contains(fix_team) {
            return Err(not_found("Team"));
        }
        let resource = Resource::Team(fix_team);
        // The same rule, checked twice (cached, then inside the transaction), as adding a member
        // and granting do.
        let (txn, now) = match kind {
            Kind::Join => {
                g.begin_checked(resource, |a| can_add_member(a, false, fix_team))
                    .await?
            }
            Kind::Grant => {
                g.begin_checked(resource, |a| can_grant(a, false, permission, fix_team))
                    .await?
            }
        };
        // Is it still offered, as things stand now? The transaction is a serial write's, as every
        // directory write is.
        let people = backend::troubleshoot::load_people(&*txn, org, false).await?;
        // What teams own sizes a blast radius only; it decides nothing offered here.
        let counts = ResourceCounts::default();
        let offered = domain::authz::fixes(
            &now.policy,
            &people.members,
            &counts,
            subject.id,
            permission,
            team,
        )
        .into_iter()
        .find(|f| {
            f.change.team().id == fix_team
                && matches!(
                    (&f.change, kind),
                    (Change::JoinTeam { .. }, Kind::Join) | (Change::Grant { .. }, Kind::Grant)
                )
        });
        let Some(fix) = offered.filter(|f| f.appliers.contains(&p.user_id)) else {
            txn.commit_unaudited().await?;
            let e = AppError::Conflict {
                message: format!(
                    "This fix is no longer offered: {}'s access or the teams have changed \
                     since. Ask again to see the current answer.",
                    subject.full_name
                ),
            };
            g.audit(resource, Outcome::Denied, Details::why(e.to_string()))
                .await;
            return Err(e);
        };
        let details = Details::new()
            .with(Field::User, Resource::User(subject.id).to_string())
            .with(Field::Permission, permission.key())
            .with(Field::Team, Resource::Team(team).to_string());
        let details = match &fix.change {
            Change::JoinTeam { .. } => {
                backend::directory::add_member(&*txn, org, subject.id, fix_team).await?;
                details.with(Field::Change, "added")
            }
            Change::Grant { .. } => {
                backend::directory::grant(
                    &*txn,
                    org,
                    fix_team,
                    [permission].into_iter().collect(),
                    Some(p.user_id),
                )
                .await?;
                details.with(Field::Change, "granted")
            }
        };
        g.commit_write(txn, resource, details).await?;
        Ok(())
    }
}
