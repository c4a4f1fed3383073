//! Export: an integration's records as JSON lines (`application/x-ndjson`,
//! the lines of `oort-host export`), streamed from the store's snapshot as
//! the client reads them, so memory stays flat in the number of records.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use oort_platform::data::{Integration, RecordKey, StoreError, StoredRecord};
use oort_platform::views::ExportLine;
use oort_platform::{cursor_after, parse_cursor};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::find;
use crate::api::auth::{Allowed, Viewer};
use crate::api::error::ErrorBody;
use crate::api::{ApiError, AppState};

/// What a kind may keep unescaped in a query value.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'.').remove(b'_').remove(b'-');

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Only records of this kind, e.g. `duo.authentication_log`.
    kind: Option<String>,
    /// A page of at most this many records (1 to 10000); the answer's
    /// `Link: <...>; rel="next"` header names the next page, if there is
    /// one. Without it, every record is streamed.
    limit: Option<usize>,
    /// Where the page starts: the cursor of the previous page's `next` link.
    after: Option<String>,
}

/// Lines buffered between the store's reader and a slow client.
const BUFFERED_LINES: usize = 256;

/// The largest page (its lines are held in memory until it is answered).
const MAX_PAGE: usize = 10_000;

/// Exports the records as JSON lines from a snapshot of the store (`?kind=`
/// for one kind): all of them streamed, or a page at a time (`?limit=`,
/// then `?after=` from the `next` link).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/integrations/{name}/records", tag = "operations", params(ExportQuery), extensions(("x-oort-least-role" = json!("viewer"))), responses((status = 200, description = "JSON lines (kind, id, occurred_at, normalized, raw) in (kind, time, id) order; with `limit`, a `Link` header with `rel=\"next\"` while more follow.", content_type = "application/x-ndjson"), (status = 400, description = "A limit out of range, or not a cursor of ours.", body = ErrorBody)))]
pub async fn records(
    State(state): State<AppState>,
    _: Allowed<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
    uri: Uri,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if query.limit.is_some_and(|n| n == 0 || n > MAX_PAGE) {
        return Err(ApiError::bad_request(format!(
            "`limit` is between 1 and {MAX_PAGE}"
        )));
    }
    let after = query.after.as_deref().map(parse_cursor).transpose()?;
    let integration = find(&state, &tenant, &name)?;
    match query.limit {
        Some(limit) => page(&state, integration, query.kind, after, limit, uri.path()).await,
        None => Ok(stream_all(&state, integration, query.kind, after)),
    }
}

fn line_of(record: &StoredRecord) -> Result<Vec<u8>, StoreError> {
    let mut line = serde_json::to_vec(&ExportLine::of(record))
        .map_err(|e| StoreError::Corrupt(format!("a record does not serialize: {e}")))?;
    line.push(b'\n');
    Ok(line)
}

fn ndjson(body: Body) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    response
}

/// Every record from `after` on, streamed as the client reads: memory stays
/// flat in the number of records.
fn stream_all(
    state: &AppState,
    integration: Integration,
    kind: Option<String>,
    after: Option<RecordKey>,
) -> Response {
    let (lines, received) = tokio::sync::mpsc::channel::<Vec<u8>>(BUFFERED_LINES);
    let platform = state.platform.clone();
    tokio::task::spawn_blocking(move || {
        let walked = platform.for_each_record(
            &integration,
            kind.as_deref(),
            after.as_ref(),
            &mut |record| {
                // The client went away: stop reading the store.
                lines
                    .blocking_send(line_of(&record)?)
                    .map_err(|_| StoreError::Unavailable("the client closed the export".into()))
            },
        );
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
    ndjson(Body::from_stream(stream))
}

/// One page: read whole (one record past it says whether another follows),
/// so an error is a proper error answer and the `next` link can be sent.
async fn page(
    state: &AppState,
    integration: Integration,
    kind: Option<String>,
    after: Option<RecordKey>,
    limit: usize,
    path: &str,
) -> Result<Response, ApiError> {
    let platform = state.platform.clone();
    let wanted = kind.clone();
    let (lines, next) = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        let mut count = 0;
        let mut last = None;
        let mut more = false;
        let stop = || StoreError::Unavailable("the page is full".into());
        let walked = platform.for_each_record(
            &integration,
            wanted.as_deref(),
            after.as_ref(),
            &mut |record| {
                if count == limit {
                    more = true;
                    return Err(stop());
                }
                lines.extend(line_of(&record)?);
                count += 1;
                last = Some(record);
                Ok(())
            },
        );
        match walked {
            Err(_) if more => {}
            other => other?,
        }
        let next = last.filter(|_| more).map(|r| cursor_after(&r));
        Ok::<_, oort_platform::PlatformError>((lines, next))
    })
    .await
    .map_err(|e| {
        oort_platform::PlatformError::Internal(format!("the export task failed: {e}"))
    })??;
    let mut response = ndjson(Body::from(lines));
    if let Some(cursor) = next {
        let mut query = format!("limit={limit}&after={cursor}");
        if let Some(kind) = &kind {
            query = format!("kind={}&{query}", utf8_percent_encode(kind, QUERY_VALUE));
        }
        let link = format!("<{path}?{query}>; rel=\"next\"");
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
}
