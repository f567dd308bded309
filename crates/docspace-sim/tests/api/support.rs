//! A running simulator and a small client DSL for the tests.

use std::time::Duration;

use docspace_sim::{Config, SimHandle, Source, spawn};
use serde_json::Value;

pub const OWNER: &str = "sk-0000000000000000000000000000000000000000000000000000000000000001";
pub const ADMIN: &str = "sk-0000000000000000000000000000000000000000000000000000000000000002";
pub const MANAGER: &str = "sk-0000000000000000000000000000000000000000000000000000000000000003";
pub const LEAVER_KEY: &str = "sk-0000000000000000000000000000000000000000000000000000000000000004";
pub const PLAIN: &str = "sk-0000000000000000000000000000000000000000000000000000000000000005";
pub const LEAVER: &str = "11111111-1111-4111-8111-111111111111";
pub const SECOND: &str = "22222222-2222-4222-8222-222222222222";

/// One HTTP exchange.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    /// The envelope's `response`.
    pub fn response(&self) -> Value {
        self.json()["response"].clone()
    }

    pub fn error_message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

pub struct Portal {
    pub sim: SimHandle,
    http: reqwest::Client,
}

impl Portal {
    pub async fn start() -> Self {
        Self::with(Config::for_tests()).await
    }

    pub async fn with(config: Config) -> Self {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small.yaml");
        let source = Source::fixture_file(&path).expect("fixture parses");
        let sim = spawn(config, &source).await.expect("simulator starts");
        Self { sim, http: http() }
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let url = format!("{}{path}", self.sim.url());
        let mut request = self.http.request(method.parse().expect("a method"), url);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the simulator answers");
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: response.text().await.expect("a body"),
        }
    }

    /// A request with `Authorization: Bearer <key>`.
    pub async fn call(&self, method: &str, path: &str, key: &str, body: Option<Value>) -> Answer {
        self.send(method, path, Some(&format!("Bearer {key}")), body)
            .await
    }

    pub async fn get(&self, path: &str, key: &str) -> Answer {
        self.call("GET", path, key, None).await
    }

    /// A session token for a user with a password (`POST authentication`); use it
    /// like a key with [`Portal::call`].
    pub async fn login(&self, email: &str, password: &str) -> String {
        let answer = self
            .send(
                "POST",
                "/api/2.0/authentication",
                None,
                Some(serde_json::json!({"userName": email, "password": password})),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        answer.response()["token"].as_str().unwrap().to_owned()
    }

    /// The portal's data, for asserting effects.
    pub fn state(&self) -> Value {
        self.sim.state()
    }

    /// The id of the group called `name`.
    pub fn group_id(&self, name: &str) -> String {
        self.state()["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == name)
            .unwrap_or_else(|| panic!("no group {name}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn folder(&self, id: i64) -> Option<Value> {
        self.state()["folders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
    }

    pub fn user_id(&self, email: &str) -> String {
        self.state()["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no user {email}"))
    }

    /// Polls `path` until `done` holds for the answer (bounded: a few seconds).
    pub async fn poll_until(
        &self,
        path: &str,
        key: &str,
        done: impl Fn(&Answer) -> bool,
    ) -> Answer {
        for _ in 0..250 {
            let answer = self.get(path, key).await;
            if done(&answer) {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{path} never reached the expected state")
    }

    /// Disables users with the owner's key.
    pub async fn disable(&self, ids: &[&str]) {
        let answer = self
            .call(
                "PUT",
                "/api/2.0/people/status/2",
                OWNER,
                Some(serde_json::json!({"userIds": ids})),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
}

/// A plain HTTP client. In a workspace build reqwest has TLS without a crypto
/// provider of its own (the `offboard` crate installs `ring`), so one is installed
/// here before any client is built.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
