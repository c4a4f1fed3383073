//! Request parameters as Duo reads them: query string for GET/DELETE, form or JSON
//! body for POST (plus any query parameters).

use super::envelope::ApiError;

#[derive(Debug, Default, Clone)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn from_urlencoded(raw: &[u8]) -> Self {
        Params(form_urlencoded::parse(raw).into_owned().collect())
    }

    /// Flattens a JSON object body: scalars become strings (as the Python client's
    /// `normalize_params` would), arrays become repeated parameters.
    pub fn from_json(raw: &[u8]) -> Result<Self, ApiError> {
        let value: serde_json::Value = serde_json::from_slice(raw)
            .map_err(|_| ApiError::invalid_param("request body is not valid JSON"))?;
        let obj = value
            .as_object()
            .ok_or_else(|| ApiError::invalid_param("JSON request body must be an object"))?;
        let mut out = Vec::new();
        for (k, v) in obj {
            match v {
                serde_json::Value::Array(items) => {
                    out.extend(items.iter().map(|i| (k.clone(), scalar(i))));
                }
                other => out.push((k.clone(), scalar(other))),
            }
        }
        Ok(Params(out))
    }

    pub fn extend(&mut self, other: Params) {
        self.0.extend(other.0);
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn require(&self, name: &str) -> Result<&str, ApiError> {
        match self.get(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ApiError::missing_param(name)),
        }
    }

    /// Integer parameter with a default and an inclusive valid range.
    pub fn int_in(&self, name: &str, default: i64, lo: i64, hi: i64) -> Result<i64, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (lo..=hi).contains(&n) => Ok(n),
                _ => Err(ApiError::invalid_param(name)),
            },
        }
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}
