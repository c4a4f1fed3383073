//! A minimal signed HTTP client for talking to the simulator from tests.

#![allow(dead_code)]

use duo_sim::signing::{self, Digest2};
use duo_sim::{Credentials, Simulator};
use serde_json::Value;

pub fn now_secs() -> i64 {
    oort_time::now_ms() / 1000
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sig {
    V2Sha1,
    V2Sha512,
    V5,
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub host: String,
    pub creds: Credentials,
    pub sig: Sig,
    /// Seconds added to the real clock when dating requests (skew tests).
    pub skew: i64,
}

impl Client {
    pub fn new(sim: &Simulator, creds: Credentials) -> Self {
        Client {
            http: reqwest::Client::new(),
            base: sim.base_url(),
            host: sim.hostname().to_string(),
            creds,
            sig: Sig::V2Sha512,
            skew: 0,
        }
    }

    pub fn with_sig(mut self, sig: Sig) -> Self {
        self.sig = sig;
        self
    }

    fn authorization(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
        body: &[u8],
        date: &str,
    ) -> String {
        let (digest, canonical) = match self.sig {
            Sig::V2Sha1 => (
                Digest2::Sha1,
                signing::canonical_v2(date, method, &self.host, path, params),
            ),
            Sig::V2Sha512 => (
                Digest2::Sha512,
                signing::canonical_v2(date, method, &self.host, path, params),
            ),
            Sig::V5 => {
                let none: [(&str, &str); 0] = [];
                let q: &[(&str, &str)] = if method == "POST" { &[] } else { params };
                (
                    Digest2::Sha512,
                    signing::canonical_v5(
                        date,
                        method,
                        &self.host,
                        path,
                        q,
                        body,
                        &signing::canon_x_duo_headers(&none).unwrap(),
                    ),
                )
            }
        };
        signing::authorization(
            &self.creds.ikey,
            &signing::hmac_hex(digest, &self.creds.skey, &canonical),
        )
    }

    pub async fn call(&self, method: &str, path: &str, params: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .send(method, path, params)
            .await
            .expect("request failed");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
        )
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
    ) -> reqwest::Result<reqwest::Response> {
        let date = oort_time::rfc2822(now_secs() + self.skew);
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let is_post = method == "POST";
        let (body, content_type) = if !is_post {
            (Vec::new(), None)
        } else if self.sig == Sig::V5 {
            let map: serde_json::Map<String, Value> = params
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect();
            (
                serde_json::to_vec(&Value::Object(map)).unwrap(),
                Some("application/json"),
            )
        } else {
            (
                encoded.clone().into_bytes(),
                Some("application/x-www-form-urlencoded"),
            )
        };
        let auth = self.authorization(method, path, params, &body, &date);
        let url = if is_post || encoded.is_empty() {
            format!("{}{}", self.base, path)
        } else {
            format!("{}{}?{}", self.base, path, encoded)
        };
        let mut req = self
            .http
            .request(m, url)
            .header("Date", date)
            .header("Authorization", auth);
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct).body(body);
        }
        req.send().await
    }

    pub async fn get(&self, path: &str, params: &[(&str, &str)]) -> (u16, Value) {
        self.call("GET", path, params).await
    }

    pub async fn post(&self, path: &str, params: &[(&str, &str)]) -> (u16, Value) {
        self.call("POST", path, params).await
    }
}

pub fn code(v: &Value) -> i64 {
    v["code"].as_i64().unwrap_or(0)
}
