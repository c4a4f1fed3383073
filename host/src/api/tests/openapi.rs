//! The OpenAPI document: served without a token, and saying of every route
//! what the route does (the least role the role matrix checks, the path
//! parameters, the body it takes, the errors it answers).

use super::*;

/// A concrete path of [`ROUTES`] as the document's template.
fn template(path: &str) -> String {
    let mut parts: Vec<&str> = path.split('/').collect();
    // /v1/tenants/{tenant}/integrations/{name}/...
    // /v1/tenants/{tenant}/operators/{operator}/tokens/{token}
    let templated: &[(usize, &str)] = match parts.get(4) {
        Some(&"operators") => &[(3, "{tenant}"), (5, "{operator}"), (7, "{token}")],
        _ => &[(3, "{tenant}"), (5, "{name}")],
    };
    for &(at, name) in templated {
        if parts.len() > at {
            parts[at] = name;
        }
    }
    let mut template = parts.join("/");
    if let Some(prefix) = template.strip_suffix("/runs/1") {
        template = format!("{prefix}/runs/{{run}}");
    }
    if let Some((prefix, _)) = template.split_once("/actions/") {
        template = format!("{prefix}/actions/{{action}}");
    }
    template
}

fn least_role(needs: Option<Role>) -> &'static str {
    match needs {
        None => "any",
        Some(Role::Viewer) => "viewer",
        Some(Role::Helpdesk) => "helpdesk",
        Some(Role::Admin) => "admin",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_describes_every_route_with_its_role_parameters_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Platform::open(dir.path()).unwrap());
    let base = serve(platform).await;
    // No token, and a Host nobody listed: the document names no tenant.
    let r = reqwest::Client::new()
        .get(format!("{base}/v1/openapi.json"))
        .header("host", "console.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let doc = json(r).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();

    // Every route of the role matrix, with the role the matrix checks.
    let mut documented = std::collections::BTreeSet::new();
    for &(method, path, needs) in ROUTES {
        let template = template(path);
        let operation = &paths
            .get(&template)
            .unwrap_or_else(|| panic!("{template} is not documented"))[method.to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {template} is not documented"
        );
        assert_eq!(
            operation["x-oort-least-role"],
            least_role(needs),
            "{method} {template}"
        );
        assert!(
            !operation["summary"].as_str().unwrap_or_default().is_empty(),
            "{method} {template} has no summary"
        );
        for status in ["401", "403", "default"] {
            assert_eq!(
                operation["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {template} {status}"
            );
        }
        // Each `{part}` of the template is a required path parameter.
        for part in template.split('/').filter(|p| p.starts_with('{')) {
            let name = part.trim_matches(['{', '}']);
            assert!(
                operation["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true),
                "{method} {template}: no path parameter `{name}`"
            );
        }
        documented.insert((method.to_lowercase(), template));
    }
    // And nothing is documented that the matrix does not check, but the
    // probes, which need no token.
    for (template, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            if operation["x-oort-least-role"] == "none" {
                assert_eq!(operation["security"], serde_json::json!([]), "{template}");
                assert!(operation["responses"].get("401").is_none());
                continue;
            }
            assert!(
                documented.contains(&(method.clone(), template.clone())),
                "{method} {template} is documented but not in the role matrix"
            );
        }
    }
    assert!(paths["/healthz"]["get"].is_object() && paths["/readyz"]["get"].is_object());
    assert_eq!(doc["security"], serde_json::json!([{ "bearer": [] }]));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    // Bodies and queries as the handlers parse them.
    let schemas = &doc["components"]["schemas"];
    let create = &paths["/v1/tenants/{tenant}/integrations"]["post"];
    let body_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap();
    let body = &schemas[body_ref.rsplit('/').next().unwrap()];
    for field in ["name", "plugin", "config", "secrets"] {
        assert!(body["properties"][field].is_object(), "{field}: {body}");
    }
    let required: Vec<&str> = body["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(required, ["name", "plugin"], "{body}");
    let runs = &paths["/v1/tenants/{tenant}/integrations/{name}/runs"]["get"];
    assert!(
        runs["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "limit" && p["in"] == "query"),
        "{runs}"
    );
    for field in ["error", "kind", "fields"] {
        assert!(
            schemas["ErrorBody"]["properties"][field].is_object(),
            "{field}"
        );
    }
    // Answers are typed where the views are: an integration as `show`
    // answers it, its runs, operators and tokens.
    let show = &paths["/v1/tenants/{tenant}/integrations/{name}"]["get"];
    assert_eq!(
        show["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/IntegrationDetail"
    );
    // The integration's own fields come in by `allOf` (serde's flatten).
    let detail = format!("{}{}", schemas["IntegrationDetail"], schemas["Integration"]);
    for field in [
        "enabled",
        "secrets",
        "schedule",
        "runs",
        "records",
        "plugin_id",
    ] {
        assert!(
            detail.contains(&format!("\"{field}\"")),
            "{field}: {detail}"
        );
    }
    for name in [
        "Run",
        "RunStatus",
        "ScheduleView",
        "SourceScheduleView",
        "Operator",
        "ApiToken",
        "Integration",
        "TestReport",
        "CollectReport",
        "QueuedRun",
        "Report",
        "Posture",
        "StoredFinding",
        "AuditLine",
        "ActionView",
        "ActReport",
        "InstalledPlugin",
        "Manifest",
        "IssuedTokenView",
    ] {
        assert!(schemas[name].is_object(), "no schema {name}");
    }
    // Every JSON answer of the API is typed: each success response of a
    // `/v1` route names its schema (the probes and metrics are plain).
    for (path, methods) in paths {
        if !path.starts_with("/v1/") || path == "/v1/openapi.json" {
            continue;
        }
        for (method, operation) in methods.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                if !status.starts_with('2') {
                    continue;
                }
                let content = &response["content"];
                // The export streams JSON lines.
                if content["application/x-ndjson"].is_object() || status == "204" {
                    continue;
                }
                assert!(
                    content["application/json"]["schema"].is_object(),
                    "{method} {path} {status} has no schema: {response}"
                );
            }
        }
    }
    // A plugin's manifest lists its sources with their intervals.
    let manifest = schemas["Manifest"].to_string();
    assert!(manifest.contains("\"sources\""), "{manifest}");
    assert!(
        schemas["Source"]["properties"]["default_interval_seconds"].is_object(),
        "{}",
        schemas["Source"]
    );
    // Every reference resolves.
    fn refs<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 50, "{}", all.len());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(schemas[name].is_object(), "unresolved {r}");
    }
}
