//! A typed client: calls a server function by its type, as the browser does — a same-origin
//! POST of the function's arguments, encoded as its `#[server]` declaration says — and reads
//! the answer as the function's output, or as the `AppError` the server answered with.
//!
//! ```ignore
//! let dan = app.sign_in("dan@acme.test").await;
//! let done: WorkOrderDetail = app.call(&dan, CompleteWorkOrder { id, version }).await?;
//! let res: reqwest::Response = app.call_raw(&dan, CompleteWorkOrder { id, version }).await;
//! ```

use app::api::auth::Login;
use app::error::AppError;
use leptos::server_fn::codec::{Encoding, Json, PostUrl};
use leptos::server_fn::{Http, ServerFn};
use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "fleetgate-demo";

/// How a server function's arguments travel: the body its input encoding (`input = …` of
/// `#[server]`) reads. server_fn encodes `PostUrl` with serde_qs and `Json` with serde_json.
pub trait InputEncoding: Encoding {
    fn encode<T: Serialize>(input: &T) -> String;
}

impl InputEncoding for PostUrl {
    fn encode<T: Serialize>(input: &T) -> String {
        serde_qs::to_string(input).expect("arguments a form can carry")
    }
}

impl InputEncoding for Json {
    fn encode<T: Serialize>(input: &T) -> String {
        serde_json::to_string(input).expect("arguments JSON can carry")
    }
}

/// The protocols our server functions use: HTTP, arguments in an [`InputEncoding`], the
/// answer in JSON (an output, or an `AppError` with the status it names).
pub trait Wire {
    type Input: InputEncoding;
}

impl<I: InputEncoding> Wire for Http<I, Json> {
    type Input = I;
}

/// One of our server functions, as its `#[server]` macro generates it: the arguments are the
/// fields of the struct, `Output` what it answers on success, `AppError` what it fails with.
pub trait ServerFunction:
    ServerFn<Error = AppError, Protocol: Wire, Output: DeserializeOwned> + Serialize
{
}

impl<F> ServerFunction for F where
    F: ServerFn<Error = AppError, Protocol: Wire, Output: DeserializeOwned> + Serialize
{
}

/// A server-function call with its arguments encoded, ready to send (as often as needed, as
/// anyone): what a table of calls to different functions holds.
#[derive(Clone, Debug)]
pub struct Call {
    path: &'static str,
    method: Method,
    content_type: &'static str,
    body: String,
}

impl Call {
    pub fn of<F: ServerFunction>(input: &F) -> Call {
        Self::encoded::<<F::Protocol as Wire>::Input, F>(input)
    }

    fn encoded<E: InputEncoding, F: ServerFunction>(input: &F) -> Call {
        Call {
            path: F::PATH,
            method: E::METHOD,
            content_type: E::CONTENT_TYPE,
            body: E::encode(input),
        }
    }
}

/// The cookies of a browser, as its `Cookie` header (`name=value; …`): a signed-in session,
/// or whatever a browser might present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session(String);

impl Session {
    /// A `Cookie` header as given: a forged, tampered or garbage cookie, or several cookies.
    pub fn from_cookies(cookies: impl Into<String>) -> Session {
        Session(cookies.into())
    }

    /// The `Cookie` header this browser sends.
    pub fn cookie(&self) -> &str {
        &self.0
    }
}

/// Whose cookies a request carries.
pub trait Caller {
    fn cookies(&self) -> Option<&str>;
}

impl Caller for &Session {
    fn cookies(&self) -> Option<&str> {
        Some(self.cookie())
    }
}

/// A request without any cookie.
#[derive(Clone, Copy, Debug)]
pub struct NoSession;

impl Caller for NoSession {
    fn cookies(&self) -> Option<&str> {
        None
    }
}

/// What a browser on the app's own origin sends to one server: its cookies and `Origin`, and
/// it follows no redirect (tests look at them).
#[derive(Clone, Debug)]
pub struct Browser {
    pub client: reqwest::Client,
    /// `http://host:port` of the server.
    pub base: String,
}

impl Browser {
    pub fn new(base: String) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The request for `call` made by `who`, to send — or to adjust first (a timeout) or send
    /// where a transport error is a possible answer.
    pub fn request(&self, who: impl Caller, call: &Call) -> RequestBuilder {
        let mut req = self
            .client
            .request(call.method.clone(), self.url(call.path))
            .header(header::ORIGIN, &self.base)
            .header(header::CONTENT_TYPE, call.content_type)
            .body(call.body.clone());
        if let Some(c) = who.cookies() {
            req = req.header(header::COOKIE, c);
        }
        req
    }

    /// Sends an encoded call; the answer as it came.
    pub async fn send(&self, who: impl Caller, call: &Call) -> Response {
        self.request(who, call).send().await.expect("request")
    }

    /// Calls a server function; the answer as it came (for its status and headers).
    pub async fn call_raw<F: ServerFunction>(&self, who: impl Caller, input: F) -> Response {
        self.send(who, &Call::of(&input)).await
    }

    /// Calls a server function; its output, or the error the server answered with (whose
    /// [`AppError::status`] is checked to be the answer's HTTP status).
    pub async fn call<F: ServerFunction>(
        &self,
        who: impl Caller,
        input: F,
    ) -> Result<F::Output, AppError> {
        decode(self.call_raw(who, input).await).await
    }

    /// A sign-in attempt, as the sign-in form sends it.
    pub async fn login(&self, email: &str, password: &str) -> Response {
        let form = Login {
            email: email.to_owned(),
            password: password.to_owned(),
            next: Some(String::new()),
        };
        self.call_raw(NoSession, form).await
    }

    /// Signs in with the demo password; the session cookie.
    pub async fn sign_in(&self, email: &str) -> Session {
        let res = self.login(email, DEMO_PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "sign-in of {email} failed");
        session_cookie(&res).expect("a session cookie")
    }
}

/// A server function's answer: its output (200, JSON), or its `AppError`, whose status must be
/// the answer's.
pub async fn decode<T: DeserializeOwned>(res: Response) -> Result<T, AppError> {
    let status = res.status();
    if status == StatusCode::OK {
        let body = res.text().await.expect("body");
        return Ok(serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("not the function's output ({e}): {body}")));
    }
    let err = app_error(res).await;
    assert_eq!(
        status.as_u16(),
        err.status(),
        "the status names the error {err:?}"
    );
    Err(err)
}

/// The typed error in a failed server-function response.
pub async fn app_error(res: Response) -> AppError {
    let body = res.text().await.expect("body");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not an AppError ({e}): {body}"))
}

/// The session cookie the response sets (its `name=value` part), if any.
pub fn session_cookie(res: &Response) -> Option<Session> {
    set_cookie(res).map(|v| Session::from_cookies(v.split(';').next().unwrap_or_default()))
}

/// The full `Set-Cookie` header value for the session cookie.
pub fn set_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("fleetgate_session="))
        .map(str::to_owned)
}
