//! The `/api/v1` HTTP API with Prometheus's JSON shapes.
//!
//! - `params.rs`: the merged GET/form-POST parameters, time/duration/limit parsing;
//! - `time.rs`: RFC 3339 parsing and formatting;
//! - `json.rs`: value encoding (floats as strings, second timestamps, label objects);
//! - `response.rs`: the envelope and `errorType` → status mapping;
//! - `parse.rs`: the `parse_query` syntax-tree JSON;
//! - `query.rs`, `meta.rs`, `status.rs`: the endpoints.

mod admin;
mod json;
mod meta;
pub(crate) mod params;
mod parse;
mod query;
mod response;
mod status;
pub(crate) mod time;
mod tsdb;

use std::sync::Arc;

use axum::extract::{FromRequest, Path, Request, State};
use axum::handler::Handler;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;

pub(crate) use params::Params;
pub(crate) use response::{ApiError, Success};

use crate::state::AppState;

/// Largest accepted form body.
const MAX_BODY: usize = 32 << 20;

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = Response;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|e| ApiError::bad_data(format!("error reading body: {e}")).into_response())?;
        Ok(Params::from_request(
            &parts.headers,
            parts.uri.query(),
            &bytes,
        ))
    }
}

type St = State<Arc<AppState>>;

async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// GET, form POST and the CORS preflight for one API handler.
fn get_post<H, T>(h: H) -> MethodRouter<Arc<AppState>>
where
    H: Handler<T, Arc<AppState>> + Clone,
    T: 'static,
{
    get(h.clone()).post(h).options(preflight)
}

/// GET (and preflight) only.
fn get_only<H, T>(h: H) -> MethodRouter<Arc<AppState>>
where
    H: Handler<T, Arc<AppState>>,
    T: 'static,
{
    get(h).options(preflight)
}

async fn query(State(st): St, p: Params) -> Result<Success, ApiError> {
    query::instant(st, p).await
}

async fn query_range(State(st): St, p: Params) -> Result<Success, ApiError> {
    query::range(st, p).await
}

async fn format_query(State(st): St, p: Params) -> Result<Success, ApiError> {
    query::format(&st, p).await
}

async fn parse_query(State(st): St, p: Params) -> Result<Success, ApiError> {
    query::parse_tree(&st, p).await
}

async fn query_exemplars(State(st): St, p: Params) -> Result<Success, ApiError> {
    query::exemplars(&st, p).await
}

async fn series(State(st): St, p: Params) -> Result<Success, ApiError> {
    meta::series(st, p).await
}

async fn labels(State(st): St, p: Params) -> Result<Success, ApiError> {
    meta::labels(st, p).await
}

async fn label_values(
    State(st): St,
    Path(name): Path<String>,
    p: Params,
) -> Result<Success, ApiError> {
    meta::label_values(st, p, name).await
}

async fn rules(State(st): St, p: Params) -> Result<Success, ApiError> {
    crate::rules::api_rules(&st.rules, &p)
}

async fn alerts(State(st): St) -> Success {
    crate::rules::api_alerts(&st.rules)
}

async fn alertmanagers(State(st): St) -> Success {
    crate::rules::api_alertmanagers(&st.rules)
}

async fn metadata() -> Success {
    Success::data("{}".into())
}

async fn targets(State(st): St, p: Params) -> Result<Success, ApiError> {
    status::targets(st, p).await
}

async fn scrape_pools(State(st): St) -> Result<Success, ApiError> {
    status::scrape_pools(st).await
}

async fn buildinfo() -> Result<Success, ApiError> {
    status::buildinfo().await
}

async fn config(State(st): St) -> Result<Success, ApiError> {
    status::config(st).await
}

async fn flags(State(st): St) -> Result<Success, ApiError> {
    status::flags(st).await
}

async fn tsdb_status(State(st): St, p: Params) -> Result<Success, ApiError> {
    tsdb::status(st, p).await
}

async fn runtimeinfo(State(st): St) -> Result<Success, ApiError> {
    status::runtimeinfo(st).await
}

async fn admin_disabled() -> ApiError {
    ApiError {
        kind: response::ErrorType::Unavailable,
        message: "admin APIs disabled".into(),
    }
}

async fn snapshot(State(st): St, p: Params) -> Result<Success, ApiError> {
    admin::snapshot(st, p).await
}

async fn delete_series(State(st): St, p: Params) -> Result<Response, ApiError> {
    admin::delete_series(st, p).await
}

/// The `/api/v1` routes.
pub(crate) fn routes(admin: bool) -> Router<Arc<AppState>> {
    let r = Router::new();
    let r = if admin {
        r.route("/api/v1/admin/tsdb/snapshot", post(snapshot).put(snapshot))
            .route(
                "/api/v1/admin/tsdb/delete_series",
                post(delete_series).put(delete_series),
            )
            .route(
                "/api/v1/admin/tsdb/clean_tombstones",
                post(admin::clean_tombstones).put(admin::clean_tombstones),
            )
    } else {
        r.route(
            "/api/v1/admin/tsdb/{action}",
            post(admin_disabled).put(admin_disabled),
        )
    };
    r.route("/api/v1/query", get_post(query))
        .route("/api/v1/query_range", get_post(query_range))
        .route("/api/v1/query_exemplars", get_post(query_exemplars))
        .route("/api/v1/format_query", get_post(format_query))
        .route("/api/v1/parse_query", get_post(parse_query))
        .route("/api/v1/series", get_post(series))
        .route("/api/v1/labels", get_post(labels))
        .route("/api/v1/label/{name}/values", get_only(label_values))
        .route("/api/v1/metadata", get_only(metadata))
        .route("/api/v1/rules", get_only(rules))
        .route("/api/v1/alerts", get_only(alerts))
        .route("/api/v1/alertmanagers", get_only(alertmanagers))
        .route("/api/v1/targets", get_only(targets))
        .route("/api/v1/scrape_pools", get_only(scrape_pools))
        .route("/api/v1/status/buildinfo", get_only(buildinfo))
        .route("/api/v1/status/config", get_only(config))
        .route("/api/v1/status/flags", get_only(flags))
        .route("/api/v1/status/runtimeinfo", get_only(runtimeinfo))
        .route("/api/v1/status/tsdb", get_only(tsdb_status))
}

/// CORS headers of API answers (`util/httputil/cors.go` with the default origin `.*`).
pub(crate) fn add_cors(resp: &mut Response, has_origin: bool) {
    let h = resp.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if has_origin {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Accept, Authorization, Content-Type, Origin"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Date"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
}
