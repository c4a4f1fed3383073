//! Export: an integration's records as JSON lines (`application/x-ndjson`,
//! the lines of `oort-host export`), streamed from the store's snapshot as
//! the client reads them, so memory stays flat in the number of records.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use oort_platform::data::StoreError;
use oort_platform::views::ExportLine;

use super::find;
use crate::api::auth::{Allowed, Viewer};
use crate::api::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Only records of this kind, e.g. `duo.authentication_log`.
    kind: Option<String>,
}

/// Lines buffered between the store's reader and a slow client.
const BUFFERED_LINES: usize = 256;

/// Exports the records as JSON lines, streamed from a snapshot of the store
/// (`?kind=` for one kind).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/integrations/{name}/records", tag = "operations", params(ExportQuery), extensions(("x-oort-least-role" = json!("viewer"))), responses((status = 200, description = "JSON lines (kind, id, occurred_at, normalized, raw), streamed.", content_type = "application/x-ndjson")))]
pub async fn records(
    State(state): State<AppState>,
    _: Allowed<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let integration = find(&state, &tenant, &name)?;
    let (lines, received) = tokio::sync::mpsc::channel::<Vec<u8>>(BUFFERED_LINES);
    let platform = state.platform.clone();
    tokio::task::spawn_blocking(move || {
        let walked = platform.for_each_record(&integration, query.kind.as_deref(), &mut |record| {
            let mut line = serde_json::to_vec(&ExportLine::of(&record))
                .map_err(|e| StoreError::Corrupt(format!("a record does not serialize: {e}")))?;
            line.push(b'\n');
            // The client went away: stop reading the store.
            lines
                .blocking_send(line)
                .map_err(|_| StoreError::Unavailable("the client closed the export".into()))
        });
        if let Err(e) = walked {
            // The status is sent; the last line says the export is cut short.
            let error = serde_json::json!({ "error": e.to_string(), "kind": e.kind().as_str() });
            let _ = lines.blocking_send(format!("{error}\n").into_bytes());
        }
    });
    let stream = futures_util::stream::unfold(received, |mut received| async move {
        let line = received.recv().await?;
        Some((Ok::<_, std::convert::Infallible>(line), received))
    });
    let mut response = Body::from_stream(stream).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(response)
}
