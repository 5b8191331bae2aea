//! Small shared UI pieces. An action the effective user lacks stays visible, disabled for real,
//! with the reason as its accessible description and tooltip (DESIGN.md, UI contract).

use crate::error::AppError;
use crate::model::Me;
use domain::authz::{Decision, Denial, Permission, TeamId};
use leptos::prelude::*;

/// The effective user, as the signed-in frame loads it: the Why? links name them.
#[derive(Clone, Copy)]
pub struct EffectiveUser(pub Resource<Result<Me, AppError>>);

/// The troubleshooter's question behind a denial: its permission on its team.
pub fn why_of(denial: &Denial) -> (Permission, TeamId) {
    (denial.permission, denial.scope.id)
}

/// The vehicle or work order a page is about, for its **Why?** links: a denial on its owning
/// team asks the troubleshooter about it (`vehicle=<id>` or `work_order=<id>`), not only its team.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WhyAbout {
    /// `vehicle` or `work_order`, the troubleshooter's query parameter.
    pub param: &'static str,
    pub id: i32,
    /// Its owning team: only a denial on it is about this thing.
    pub team: TeamId,
}

/// `/troubleshoot?user=<e-mail>&permission=<key>&team=<id>` (or `vehicle=<id>` or
/// `work_order=<id>` when the denial is about one): the shareable question.
pub fn why_href(
    permission: Permission,
    team: TeamId,
    about: Option<WhyAbout>,
    user: Option<&str>,
) -> String {
    let (param, id) = match about.filter(|a| a.team == team) {
        Some(a) => (a.param, a.id),
        None => ("team", team),
    };
    let id = id.to_string();
    let params = user
        .map(|u| ("user", u))
        .into_iter()
        .chain([("permission", permission.key()), (param, id.as_str())]);
    crate::routes::with_query("/troubleshoot", params)
}

/// **Why?**: opens the troubleshooter on exactly this denial, for the effective user (about the
/// page's vehicle or work order when a [`WhyAbout`] is in context).
#[component]
pub fn WhyLink(permission: Permission, team: TeamId) -> impl IntoView {
    let me = use_context::<EffectiveUser>();
    let about = use_context::<WhyAbout>();
    view! {
        <Suspense fallback=move || {
            view! {
                <a class="why-link" href=why_href(permission, team, about, None)>
                    "Why?"
                </a>
            }
        }>
            {move || Suspend::new(async move {
                let email = match me {
                    Some(EffectiveUser(r)) => r.await.ok().map(|m| m.email),
                    None => None,
                };
                view! {
                    <a class="why-link" href=why_href(permission, team, about, email.as_deref())>
                        "Why?"
                    </a>
                }
            })}
        </Suspense>
    }
}

/// A button for one permission-guarded action, rendered from the server's decision.
#[component]
pub fn ActionButton(
    /// The visible label, also the accessible name.
    label: &'static str,
    /// The server's decision; `None` (not decided) is shown disabled.
    decision: Option<Decision>,
    /// Disabled for another reason than permissions (e.g. while a request is in flight).
    #[prop(into, optional)]
    busy: Signal<bool>,
    #[prop(into)] on_click: Callback<()>,
) -> impl IntoView {
    let why = match &decision {
        Some(Decision::Allow) => None,
        Some(Decision::Deny(d)) => Some(d.describe()),
        None => Some("Not available.".to_owned()),
    };
    let why_link = decision.as_ref().and_then(Decision::denial).map(why_of);
    view! { <ReasonButton label why busy why_link on_click /> }
}

/// A button that is disabled for real when there is a reason, which becomes its accessible
/// description, its tooltip and a visible note beside it.
#[component]
pub fn ReasonButton(
    label: &'static str,
    why: Option<String>,
    #[prop(into, optional)] busy: Signal<bool>,
    /// Tells rows apart when the same label repeats on a page.
    #[prop(optional)]
    key: Option<String>,
    /// The denial's permission and team, for a **Why?** link into the troubleshooter.
    #[prop(default = None)]
    why_link: Option<(Permission, TeamId)>,
    #[prop(into)] on_click: Callback<()>,
) -> impl IntoView {
    let allowed = why.is_none();
    let why_link = why_link.filter(|_| !allowed);
    let slug = key.unwrap_or_default();
    let id = format!("why-{}{slug}", label.to_lowercase().replace(' ', "-"));
    let described_by = why.as_ref().map(|_| id.clone());
    view! {
        <span class="action">
            <button
                type="button"
                class="primary"
                disabled=move || !allowed || busy.try_get().unwrap_or(false)
                aria-describedby=described_by
                title=why.clone()
                on:click=move |_| on_click.run(())
            >
                {label}
            </button>
            {why
                .map(|w| {
                    view! {
                        <span id=id class="why">
                            {w}
                        </span>
                    }
                })}
            {why_link.map(|(permission, team)| view! { <WhyLink permission team /> })}
        </span>
    }
}

/// The error of the last attempt of an action, as an alert (a refusal shows the server's
/// explanation).
#[component]
pub fn ActionError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.try_get().flatten().map(|e| {
            let why = denial_of(&e);
            view! {
                <p role="alert" class="alert">
                    {e.to_string()}
                    {why
                        .map(|(permission, team)| {
                            view! {
                                " "
                                <WhyLink permission team />
                            }
                        })}
                </p>
            }
        })
    }
}

/// A refusal's question for the troubleshooter, when it carries one.
fn denial_of(e: &AppError) -> Option<(Permission, TeamId)> {
    match e {
        AppError::Forbidden {
            denial: Some(d), ..
        } => Some(why_of(d)),
        _ => None,
    }
}

/// Renders a `Result` from a resource: the value, or the error as an alert.
pub fn or_alert<T, V: IntoView + 'static>(
    result: Result<T, AppError>,
    view: impl FnOnce(T) -> V,
) -> AnyView {
    match result {
        Ok(v) => view(v).into_any(),
        Err(e) => {
            let not_found = matches!(e, AppError::NotFound { .. });
            let why = denial_of(&e);
            view! {
                <div class="notice">
                    {not_found.then(|| view! { <h1>"Not found"</h1> })}
                    <p role="alert" class="alert">
                        {e.to_string()}
                        {why
                            .map(|(permission, team)| {
                                view! {
                                    " "
                                    <WhyLink permission team />
                                }
                            })}
                    </p>
                </div>
            }
            .into_any()
        }
    }
}

/// A validation message under a form field.
#[component]
pub fn FieldMessage(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message.try_get().flatten().map(|m| {
            view! {
                <p role="alert" class="field-error">
                    {m}
                </p>
            }
        })
    }
}

/// A form bound to a server function: its fields are read like `ActionForm` does, checked in
/// the browser with the same validator the server runs, and sent only when they pass. Without
/// the wasm bundle it still posts to the server function, which validates again.
#[component]
pub fn ValidatedForm<S>(
    action: ServerAction<S>,
    /// The shared validator (also run by the server).
    check: fn(&S) -> Result<(), AppError>,
    /// Where a browser-side validation error goes (the page merges it with the server's).
    invalid: RwSignal<Option<AppError>>,
    children: Children,
) -> impl IntoView
where
    S: leptos::server_fn::ServerFn<Error = AppError>
        + leptos::form::FromFormData
        + Clone
        + Send
        + Sync
        + 'static,
    S::Output: Send + Sync + 'static,
{
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match S::from_event(&ev) {
            Ok(input) => match check(&input) {
                Ok(()) => {
                    invalid.set(None);
                    action.dispatch(input);
                }
                Err(e) => invalid.set(Some(e)),
            },
            Err(e) => invalid.set(Some(AppError::BadRequest {
                message: e.to_string(),
            })),
        }
    };
    view! {
        <form action=S::PATH method="post" novalidate on:submit=on_submit>
            {children()}
        </form>
    }
}

/// The error to show for a form: the browser's validation first, else the server's answer.
pub fn form_error<S>(
    action: ServerAction<S>,
    invalid: RwSignal<Option<AppError>>,
) -> Signal<Option<AppError>>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let reads = ActionReads::of(action);
    Signal::derive(move || invalid.try_get().flatten().or_else(|| reads.error()))
}

/// A labelled input with its field message.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional, into)] value: String,
    error: Signal<Option<AppError>>,
    /// Tells the fields of two forms on one page apart (their ids must differ).
    #[prop(optional)]
    form: &'static str,
) -> impl IntoView {
    let id = format!("f-{form}{name}");
    let message = Signal::derive(move || {
        error
            .try_get()
            .flatten()
            .and_then(|e| e.field_message(name).map(str::to_owned))
    });
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type=kind
                name=name
                value=value
                aria-invalid=move || message.try_get().flatten().is_some().to_string()
            />
            <FieldMessage message />
        </div>
    }
}

/// Reads of a server action that never panic.
///
/// Server-side rendering may evaluate a view's closures once more after the page's reactive
/// owner has been disposed (`Suspend::dry_resolve` on a kept-alive connection, seen under load).
/// Everything here is captured when the page is built and read with `try_get`, so a disposed
/// action reads as idle and empty instead of panicking.
pub struct ActionReads<O: Send + Sync + 'static> {
    value: MappedSignal<Option<Result<O, AppError>>>,
    pending: Memo<bool>,
    version: RwSignal<usize>,
}

// Copy whatever `O` is: only arena handles are copied.
impl<O: Send + Sync + 'static> Clone for ActionReads<O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<O: Send + Sync + 'static> Copy for ActionReads<O> {}

impl<O: Clone + Send + Sync + 'static> ActionReads<O> {
    pub fn of<S>(action: ServerAction<S>) -> Self
    where
        S: leptos::server_fn::ServerFn<Output = O, Error = AppError>
            + Clone
            + Send
            + Sync
            + 'static,
    {
        ActionReads {
            value: action.value(),
            pending: action.pending(),
            version: action.version(),
        }
    }

    pub fn error(&self) -> Option<AppError> {
        self.value.try_get().flatten().and_then(Result::err)
    }

    pub fn ok(&self) -> Option<O> {
        self.value.try_get().flatten().and_then(Result::ok)
    }

    pub fn pending(&self) -> bool {
        self.pending.try_get().unwrap_or(false)
    }

    /// Bumps after every completed call: a resource keyed on it refetches.
    pub fn version(&self) -> usize {
        self.version.try_get().unwrap_or(0)
    }
}

/// A button that opens a form — greyed out with the reason (`why`) when the viewer may not —
/// and the form, validated in the browser by `check` before it is sent (`ValidatedForm`), which
/// closes again when its action succeeds. The caller keeps `invalid` to show field messages
/// (`form_error`) in its `children`: the fields and the submit button.
#[component]
pub fn FormBehind<S>(
    label: &'static str,
    why: Option<String>,
    action: ServerAction<S>,
    check: fn(&S) -> Result<(), AppError>,
    invalid: RwSignal<Option<AppError>>,
    /// The denial's permission and team, for a **Why?** link when the button is greyed out.
    #[prop(default = None)]
    why_link: Option<(Permission, TeamId)>,
    children: ChildrenFn,
) -> impl IntoView
where
    S: leptos::server_fn::ServerFn<Error = AppError>
        + leptos::form::FromFormData
        + Clone
        + Send
        + Sync
        + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let open = RwSignal::new(false);
    let reads = ActionReads::of(action);
    let error = form_error(action, invalid);
    // Copy, so the form can be built again each time it opens.
    let children = StoredValue::new(children);
    Effect::new(move |_| {
        if reads.ok().is_some() {
            open.set(false);
        }
    });
    view! {
        <ReasonButton label why why_link on_click=move |_| open.set(true) />
        <Show when=move || open.try_get().unwrap_or(false)>
            <ValidatedForm action check invalid>
                {children.with_value(|c| c())}
            </ValidatedForm>
            <FormAlert error />
        </Show>
    }
}

/// A form's error that is not about one field (a refusal, a conflict), as an alert; field
/// messages show under their fields instead.
#[component]
pub fn FormAlert(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .try_get()
            .flatten()
            .filter(|e| {
                !matches!(e, AppError::Invalid { .. }) || e.field_message("items").is_some()
            })
            .map(|e| {
                view! {
                    <p role="alert" class="alert">
                        {e.to_string()}
                    </p>
                }
            })
    }
}

/// "First page" and "Next page" links under a paginated list. They keep the page's other query
/// parameters (the filters) and work before the wasm bundle has loaded.
#[component]
pub fn Pager(path: &'static str, next: Option<String>) -> impl IntoView {
    let query = leptos_router::hooks::use_query_map().get_untracked();
    let on_later_page = query.get("after").is_some_and(|a| !a.is_empty());
    let kept: Vec<(String, String)> = query
        .into_iter()
        .filter(|(k, v)| k != "after" && !v.is_empty())
        .map(|(k, v)| (k.into_owned(), v))
        .collect();
    let link = |after: Option<&str>| {
        let params = kept.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        crate::routes::with_query(path, params.chain(after.map(|a| ("after", a))))
    };
    let first = on_later_page.then(|| link(None));
    let next = next.as_deref().map(|n| link(Some(n)));
    (first.is_some() || next.is_some()).then(|| {
        view! {
            <nav class="pager" aria-label="Pages">
                {first.map(|href| view! { <a href=href>"← First page"</a> })}
                {next
                    .map(|href| {
                        view! {
                            <a href=href rel="next">
                                "Next page →"
                            </a>
                        }
                    })}
            </nav>
        }
    })
}

/// The deepest indentation the stylesheet draws; deeper teams line up with it.
const MAX_DRAWN_DEPTH: usize = 8;

/// Classes that indent a team by its depth in the tree. Classes, not inline `style`
/// attributes: the Content-Security-Policy allows the app's own stylesheet only.
pub fn depth_class(base: &str, depth: usize) -> String {
    format!("{base} depth-{}", depth.min(MAX_DRAWN_DEPTH))
}

/// A table's header row, one `<th scope="col">` per column: every list writes it the same way.
#[component]
pub fn ColumnHeads(names: &'static [&'static str]) -> impl IntoView {
    view! {
        <thead>
            <tr>{names.iter().map(|n| view! { <th scope="col">{*n}</th> }).collect_view()}</tr>
        </thead>
    }
}
