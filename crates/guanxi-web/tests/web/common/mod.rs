//! API test harness: the real router on an ephemeral port over a fresh database, spoken to over
//! HTTP. Users are created through the same code path as `guanxi user add`.

#![allow(dead_code)]

use guanxi_domain::role::{Actor, Role};
use guanxi_domain::user::NewUser;
use guanxi_store::testing::TestDb;
use guanxi_store::Backend;
use guanxi_web::AppState;
use reqwest::StatusCode;
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub db: TestDb,
    pub base: String,
    pub state: AppState,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, guanxi_web::overload::Limits::default()).await
    }

    /// A server with these overload limits.
    pub async fn spawn_with(backend: Backend, limits: guanxi_web::overload::Limits) -> TestApp {
        let db = TestDb::new(backend).await;
        let mut state = AppState::new(db.store.clone(), false);
        state.limits = limits;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
        let app = guanxi_web::app(state.clone());
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestApp { db, base, state }
    }

    pub async fn team(&self, name: &str) -> i64 {
        match self
            .db
            .store
            .list_teams()
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.name == name)
        {
            Some(t) => t.id,
            None => {
                self.db
                    .store
                    .create_team(&Actor::system(), name)
                    .await
                    .unwrap()
                    .id
            }
        }
    }

    /// Creates a user and returns a client authenticated with a fresh API token.
    pub async fn user(&self, username: &str, role: Role, team: Option<&str>) -> Api {
        let team_id = match team {
            Some(t) => Some(self.team(t).await),
            None => None,
        };
        let u = guanxi_app::users::create_user(
            &self.state.store,
            &Actor::system(),
            NewUser {
                username: username.into(),
                display_name: username.into(),
                password: PASSWORD.into(),
                role,
                team_id,
                see_all_customers: false,
                locale: Some("en".into()),
            },
        )
        .await
        .unwrap();
        let token = format!("gx_test_{}", guanxi_web::auth::random_secret());
        self.db
            .store
            .create_token(
                &Actor::system(),
                u.id,
                "test",
                &guanxi_web::auth::digest(&token),
                "gx_test",
                None,
            )
            .await
            .unwrap();
        Api {
            base: self.base.clone(),
            http: client(false),
            auth: Some(format!("Bearer {token}")),
            lang: None,
            user_id: u.id,
        }
    }

    /// A client with no credentials connecting from another loopback address (127.0.0.x):
    /// the login throttle counts per client address.
    pub fn anonymous_from(&self, ip: [u8; 4]) -> Api {
        Api {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .pool_max_idle_per_host(0)
                .local_address(std::net::IpAddr::from(ip))
                .build()
                .unwrap(),
            ..self.anonymous()
        }
    }

    /// A client with no credentials (and a cookie jar, for session tests).
    pub fn anonymous(&self) -> Api {
        Api {
            base: self.base.clone(),
            http: client(true),
            auth: None,
            lang: None,
            user_id: 0,
        }
    }
}

/// A test HTTP client. No connection reuse: the server rightly closes a connection after
/// refusing a body it did not read (413, 415), and a pooled client racing to reuse that
/// connection fails with `IncompleteMessage` — a flake in the client, not in the server.
pub fn client(cookies: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(cookies)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub auth: Option<String>,
    pub lang: Option<String>,
    pub user_id: i64,
}

impl Api {
    pub fn lang(mut self, l: &str) -> Self {
        self.lang = Some(l.into());
        self
    }

    fn req(&self, m: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.http.request(m, format!("{}{}", self.base, path));
        if let Some(a) = &self.auth {
            r = r.header("authorization", a);
        }
        if let Some(l) = &self.lang {
            r = r.header("accept-language", l);
        }
        r
    }

    pub async fn send(&self, r: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let res = r.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, v)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.req(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.req(reqwest::Method::POST, path).json(&body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.req(reqwest::Method::PUT, path).json(&body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.req(reqwest::Method::PATCH, path).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.req(reqwest::Method::DELETE, path)).await
    }

    /// GETs a file: status, media type and bytes.
    pub async fn download(&self, path: &str) -> (StatusCode, String, Vec<u8>) {
        let res = self.req(reqwest::Method::GET, path).send().await.unwrap();
        let status = res.status();
        let kind = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, kind, res.bytes().await.unwrap().to_vec())
    }

    pub fn raw(&self, m: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.req(m, path)
    }
}

/// Runs an async test body on both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name(&$crate::common::TestApp::spawn(guanxi_store::Backend::Sqlite).await).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name(&$crate::common::TestApp::spawn(guanxi_store::Backend::Postgres).await).await }
        }
    )*};
}
