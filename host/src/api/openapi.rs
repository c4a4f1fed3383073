//! The API's OpenAPI document, served at `/v1/openapi.json` without a token
//! (it names no tenant). The router that serves the handlers builds it from
//! their own `#[utoipa::path]` annotations (utoipa-axum), so a route cannot
//! be served undocumented; [`complete`] then adds what every route shares:
//! the bearer scheme, the path parameters, the error answers. Each
//! operation names its least role in `x-oort-least-role` (`none`: no token;
//! `any`: any operator); routes outside `/v1/tenants/{tenant}` need a
//! platform-wide operator.

use serde_json::{Value, json};
use utoipa::OpenApi;

use super::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "oort-host",
        description = "The platform service: integrations per tenant, Test Connectivity, Collect Now and scheduled collection, records, insights, actions, operators and the audit trail. Every request but the probes and this document carries `Authorization: Bearer TOKEN` (`oort-host operators token create NAME`); errors are `{\"error\", \"kind\"}`, with `fields` for field errors."
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "service", description = "Probes and metrics, for whoever runs the service."),
        (name = "platform", description = "What belongs to no tenant: the caller, plugins, operators, the whole audit trail."),
        (name = "integrations", description = "One tenant's integrations: settings, secrets (write-only), schedule, runs."),
        (name = "operations", description = "What operators do with an integration: test, collect, export, insights, actions."),
        (name = "operators", description = "A tenant's operators and their API tokens, managed by the tenant's admins."),
    )
)]
pub struct ApiDoc;

/// Which `x-oort-least-role` means no token at all.
const NO_TOKEN: &str = "none";

/// The generated document with the bearer scheme (required unless the
/// operation says `none`), each path template's parameters, and the error
/// answers every operation shares, as JSON.
pub fn complete(doc: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(doc).expect("an OpenAPI document serializes");
    doc["components"]["securitySchemes"] = json!({
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An operator's API token (`oort_…`), shown once when issued."
        }
    });
    doc["security"] = json!([{ "bearer": [] }]);
    let error = json!({ "$ref": "#/components/schemas/ErrorBody" });
    let answer = |description: &str| {
        json!({
            "description": description,
            "content": { "application/json": { "schema": error.clone() } }
        })
    };
    let Some(paths) = doc["paths"].as_object_mut() else {
        return doc;
    };
    for (template, item) in paths.iter_mut() {
        let parameters: Vec<Value> = path_parameters(template)
            .map(|name| {
                json!({
                    "name": name,
                    "in": "path",
                    "required": true,
                    "schema": { "type": "string" },
                    "description": parameter_description(name),
                })
            })
            .collect();
        let Some(operations) = item.as_object_mut() else {
            continue;
        };
        for operation in operations.values_mut() {
            let Some(operation) = operation.as_object_mut() else {
                continue;
            };
            let mut all = parameters.clone();
            if let Some(Value::Array(own)) = operation.get("parameters") {
                all.extend(own.iter().cloned());
            }
            if !all.is_empty() {
                operation.insert("parameters".into(), Value::Array(all));
            }
            let needs_token = operation.get("x-oort-least-role") != Some(&json!(NO_TOKEN));
            let responses = operation
                .entry("responses")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("responses are an object");
            responses.insert(
                "default".into(),
                answer("An error: the status says whose fault it is, `kind` what it is."),
            );
            if needs_token {
                responses.insert(
                    "401".into(),
                    answer("No token, or one unknown, revoked or expired (audited)."),
                );
                responses.insert(
                    "403".into(),
                    answer("The operator's role or tenant does not allow this (audited)."),
                );
            } else {
                operation.insert("security".into(), json!([]));
            }
        }
    }
    doc
}

/// The `{name}` parts of a path template.
fn path_parameters(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
}

fn parameter_description(name: &str) -> &'static str {
    match name {
        "tenant" => "The tenant, e.g. `acme`.",
        "name" => "The integration's name in the tenant.",
        "run" => "A run id, from the run history or Collect Now's answer.",
        "action" => "An action id of the integration's plugin, e.g. `disable-user`.",
        "operator" => "An operator of the tenant, by name.",
        "token" => "A token id, from the operator's token list.",
        _ => "",
    }
}
