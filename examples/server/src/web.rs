//! The HTTP server: non-API endpoints (`/-/healthy`, `/-/ready`, `/-/reload`, `/-/quit`,
//! `/metrics`), request instrumentation, and the full router (the UI's routes come from
//! [`crate::ui`]).

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::api;
use crate::state::AppState;

type St = State<Arc<AppState>>;

async fn healthy() -> &'static str {
    "Prometheus Server is Healthy.\n"
}

async fn ready(State(st): St) -> Response {
    if st.quitting.load(std::sync::atomic::Ordering::Acquire) {
        let mut r = (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
        r.headers_mut()
            .insert("X-Prometheus-Stopping", HeaderValue::from_static("true"));
        return r;
    }
    "Prometheus Server is Ready.\n".into_response()
}

const LIFECYCLE_DISABLED: &str = "Lifecycle API is not enabled.";

async fn reload(State(st): St) -> Response {
    if !st.flags.enable_lifecycle {
        return (StatusCode::FORBIDDEN, LIFECYCLE_DISABLED).into_response();
    }
    // Config files are small: reading one inline on the runtime is fine, and applying it
    // needs the runtime context (it starts scrape tasks).
    match st.reload() {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reloading configuration");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("failed to reload config: {e}"),
            )
                .into_response()
        }
    }
}

async fn quit(State(st): St) -> Response {
    if !st.flags.enable_lifecycle {
        return (StatusCode::FORBIDDEN, LIFECYCLE_DISABLED).into_response();
    }
    if st.request_quit() {
        "Requesting termination... Goodbye!".into_response()
    } else {
        "Termination already in progress.".into_response()
    }
}

async fn post_only() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        "Only POST or PUT requests allowed",
    )
        .into_response()
}

async fn metrics(State(st): St, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    match kagari_client::scrape(&st.metrics.registry, accept) {
        Ok(s) => {
            let mut r = s.body.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(s.content_type),
            );
            r
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "404 page not found\n").into_response()
}

/// The response encoding asked for: the first `Accept-Encoding` token that is exactly `gzip`
/// or `deflate` (upstream's `util/httputil/compression.go`, quirks included).
fn pick_encoding(headers: &HeaderMap) -> Option<&'static str> {
    let v = headers.get(header::ACCEPT_ENCODING)?.to_str().ok()?;
    v.split(',').find_map(|t| match t.trim() {
        "gzip" => Some("gzip"),
        "deflate" => Some("deflate"),
        _ => None,
    })
}

/// Compresses a response body with `encoding` (`deflate` is zlib, as Go's handler writes).
async fn compress(resp: Response, encoding: &'static str) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
        }
    };
    let level = flate2::Compression::default();
    let out = if encoding == "gzip" {
        let mut w = flate2::write::GzEncoder::new(Vec::new(), level);
        w.write_all(&bytes).and_then(|()| w.finish())
    } else {
        let mut w = flate2::write::ZlibEncoder::new(Vec::new(), level);
        w.write_all(&bytes).and_then(|()| w.finish())
    };
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
        }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    Response::from_parts(parts, axum::body::Body::from(out))
}

/// Counts and times every request under its route pattern (upstream's `handler` label) and
/// adds the CORS headers to API answers.
async fn track(State(st): St, req: Request, next: Next) -> Response {
    // Upstream's handler label is the route without the prefix.
    let handler = req.extensions().get::<MatchedPath>().map_or_else(
        || "other".to_string(),
        |m| {
            let p = m.as_str();
            let p = match st.web.route_prefix.as_str() {
                "/" => p,
                prefix => p
                    .strip_prefix(prefix)
                    .filter(|r| !r.is_empty())
                    .unwrap_or("/"),
            };
            p.replace("{name}", ":name")
        },
    );
    let has_origin = req.headers().contains_key(header::ORIGIN);
    let encoding = pick_encoding(req.headers());
    let t0 = Instant::now();
    let mut resp = next.run(req).await;
    if handler.starts_with("/api/") {
        api::add_cors(&mut resp, has_origin);
    }
    if let Some(enc) = encoding {
        let has_body = resp.status() != StatusCode::NO_CONTENT
            && !resp.headers().contains_key(header::CONTENT_ENCODING);
        if has_body && (handler.starts_with("/api/") || handler == "/metrics") {
            resp = compress(resp, enc).await;
        }
    }
    st.metrics
        .observe_http(&handler, resp.status().as_u16(), t0.elapsed().as_secs_f64());
    resp
}

async fn not_ready() -> Response {
    let mut r = (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    r.headers_mut()
        .insert("X-Prometheus-Stopping", HeaderValue::from_static("false"));
    r
}

/// What answers while storage is opening (WAL replay): `/-/healthy`, and 503 for the rest.
///
/// Every answer carries `Connection: close`: this responder stops once storage is open, and a
/// client that kept its connection for reuse would then find it closed under its next request.
pub(crate) fn starting_router(urls: &crate::weburl::WebUrls) -> Router {
    Router::new()
        .route(&urls.route("/-/healthy"), get(healthy))
        .fallback(not_ready)
        .layer(middleware::map_response(close_connection))
}

async fn close_connection(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// The whole application, under the route prefix.
///
/// With a prefix other than `/`, as Prometheus: `/` answers 302 to the prefix, the prefix
/// (with or without a slash) 302 to the UI's home page, and everything else outside the
/// prefix 404.
pub(crate) fn router(st: Arc<AppState>) -> Router {
    let app = routes(&st);
    let prefix = st.web.route_prefix.clone();
    if prefix == "/" {
        return app.with_state(st);
    }
    let home = format!("{}/graph", st.web.external_path);
    Router::new()
        .route(
            "/",
            get(move || redirect(StatusCode::FOUND, prefix.clone())),
        )
        .route(
            &format!("{}/", st.web.route_prefix),
            get(move || redirect(StatusCode::FOUND, home.clone())),
        )
        .nest(&st.web.route_prefix, app)
        .fallback(not_found)
        .with_state(st)
}

async fn redirect(status: StatusCode, to: String) -> Response {
    let mut r = status.into_response();
    if let Ok(v) = HeaderValue::from_str(&to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Every route, relative to the route prefix.
fn routes(st: &Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .merge(api::routes(st.flags.enable_admin_api))
        .route("/-/healthy", get(healthy))
        .route("/-/ready", get(ready))
        .route("/-/reload", get(post_only).post(reload).put(reload))
        .route("/-/quit", get(post_only).post(quit).put(quit))
        .route("/metrics", get(metrics))
        .route("/federate", get(crate::federate::federate))
        .merge(crate::ui::routes(&st.web))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(st.clone(), track))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn starting_router_is_healthy_but_not_ready() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let urls = crate::weburl::WebUrls::resolve(None, Some("/pre/"), "h", 1).unwrap();
        let server = tokio::spawn(async move { axum::serve(l, starting_router(&urls)).await });
        let answers = tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            ["/pre/-/healthy", "/pre/-/ready", "/api/v1/query?query=1"].map(|p| {
                let r = agent.get(&format!("http://{addr}{p}")).call().unwrap();
                let header = |name: &str| {
                    r.headers()
                        .get(name)
                        .map(|v| v.to_str().unwrap().to_string())
                };
                (
                    r.status().as_u16(),
                    header("x-prometheus-stopping"),
                    header("connection"),
                )
            })
        })
        .await
        .unwrap();
        server.abort();
        let close = Some("close".to_string());
        let not_ready = (503, Some("false".to_string()), close.clone());
        assert_eq!(answers, [(200, None, close), not_ready.clone(), not_ready]);
    }

    #[test]
    fn encoding_is_the_first_exact_token() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, v.parse().unwrap());
            pick_encoding(&m)
        };
        assert_eq!(h("gzip, deflate, br"), Some("gzip"));
        assert_eq!(h("br, deflate"), Some("deflate"));
        assert_eq!(h("gzip;q=0.5"), None);
        assert_eq!(h("identity"), None);
        assert_eq!(pick_encoding(&HeaderMap::new()), None);
    }
}
