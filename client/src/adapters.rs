//! Adapters for async HTTP stacks (off by default): `hyper` and `axum`.

#[cfg(feature = "hyper")]
pub mod hyper {
    //! Answer a scrape from a `hyper` service.

    use hyper::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
    use hyper::{Request, Response, StatusCode};

    use crate::{scrape, Registry};

    /// Encodes `registry` for `req` (format negotiated from its `Accept` header).
    ///
    /// Use inside `hyper::service::service_fn`; the `String` body implements `http_body::Body`.
    pub fn metrics_response<B>(registry: &Registry, req: &Request<B>) -> Response<String> {
        let accept = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
        let mut resp = Response::new(String::new());
        match scrape(registry, accept).map(|s| (s.content_type, String::from_utf8(s.body))) {
            Ok((ct, Ok(body))) => {
                *resp.body_mut() = body;
                resp.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
            }
            Ok((_, Err(e))) => {
                *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                *resp.body_mut() = format!("exposition is not UTF-8: {e}\n");
            }
            Err(e) => {
                *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                *resp.body_mut() = format!("error encoding metrics: {e}\n");
            }
        }
        resp
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn negotiates_and_sets_content_type() {
            let r = Registry::new();
            let req = Request::builder()
                .header(ACCEPT, "application/openmetrics-text; version=1.0.0")
                .body(())
                .unwrap();
            let resp = metrics_response(&r, &req);
            assert_eq!(resp.status(), StatusCode::OK);
            assert_eq!(resp.body(), "# EOF\n");
            assert!(resp.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/openmetrics-text"));
        }
    }
}

#[cfg(feature = "axum")]
pub mod axum {
    //! Serve a registry from an `axum` application.

    use axum::http::header::{ACCEPT, CONTENT_TYPE};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::Router;

    use crate::{scrape, Registry};

    /// The scrape response for these request headers.
    pub fn metrics_response(registry: &Registry, headers: &HeaderMap) -> Response {
        let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
        match scrape(registry, accept) {
            Ok(s) => ([(CONTENT_TYPE, s.content_type)], s.body).into_response(),
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("error encoding metrics: {e}\n"),
            )
                .into_response(),
        }
    }

    /// A router answering `GET /metrics` from `registry`; merge it into your app's router.
    pub fn router(registry: Registry) -> Router {
        Router::new().route(
            "/metrics",
            get(move |headers: HeaderMap| {
                let registry = registry.clone();
                async move { metrics_response(&registry, &headers) }
            }),
        )
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn text_by_default() {
            let r = Registry::new();
            let resp = metrics_response(&r, &HeaderMap::new());
            assert_eq!(resp.status(), StatusCode::OK);
            assert_eq!(
                resp.headers()[CONTENT_TYPE],
                "text/plain; version=0.0.4; charset=utf-8"
            );
            let _router = router(r);
        }
    }
}
