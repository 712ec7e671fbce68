//! The API envelope: `{"status":"success","data":…}` and typed errors mapped to Prometheus's
//! `errorType` and HTTP status codes (`getDefaultErrorCode`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kagari_promql::engine::EngineError;

use super::json::push_str;

/// At most this many warnings (and infos) are listed.
const MAX_ANNOTATIONS: usize = 10;

/// A successful answer: raw JSON `data` plus annotations.
#[derive(Debug, Default)]
pub(crate) struct Success {
    /// The `data` member, already encoded as JSON.
    pub(crate) data: String,
    /// Warnings.
    pub(crate) warnings: Vec<String>,
    /// Infos.
    pub(crate) infos: Vec<String>,
}

impl Success {
    /// An answer with `data` and no annotations.
    pub(crate) fn data(data: String) -> Self {
        Success {
            data,
            ..Success::default()
        }
    }

    /// The whole envelope as JSON.
    pub(crate) fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.data.len() + 64);
        out.push_str("{\"status\":\"success\",\"data\":");
        out.push_str(&self.data);
        push_annotations(&mut out, "warnings", "warning", &self.warnings);
        push_annotations(&mut out, "infos", "info", &self.infos);
        out.push('}');
        out
    }
}

fn push_annotations(out: &mut String, key: &str, what: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    out.push_str(",\"");
    out.push_str(key);
    out.push_str("\":[");
    for (i, w) in items.iter().take(MAX_ANNOTATIONS).enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, w);
    }
    if items.len() > MAX_ANNOTATIONS {
        out.push(',');
        let more = format!(
            "{} more {what} annotations omitted",
            items.len() - MAX_ANNOTATIONS
        );
        push_str(out, &more);
    }
    out.push(']');
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

impl IntoResponse for Success {
    fn into_response(self) -> Response {
        json_response(StatusCode::OK, self.to_json())
    }
}

/// Prometheus's `errorType`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorType {
    /// 400.
    BadData,
    /// 422.
    Execution,
    /// 503.
    Timeout,
    /// 499.
    Canceled,
    /// 500.
    Internal,
    /// 500 (admin API disabled, …).
    Unavailable,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            ErrorType::BadData => "bad_data",
            ErrorType::Execution => "execution",
            ErrorType::Timeout => "timeout",
            ErrorType::Canceled => "canceled",
            ErrorType::Internal => "internal",
            ErrorType::Unavailable => "unavailable",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            ErrorType::BadData => StatusCode::BAD_REQUEST,
            ErrorType::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::Canceled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            ErrorType::Internal | ErrorType::Unavailable => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A failed API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// The error type (decides the status code).
    pub(crate) kind: ErrorType,
    /// The message.
    pub(crate) message: String,
}

impl ApiError {
    /// A `bad_data` error.
    pub(crate) fn bad_data(message: impl Into<String>) -> Self {
        ApiError {
            kind: ErrorType::BadData,
            message: message.into(),
        }
    }

    /// An `internal` error.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        ApiError {
            kind: ErrorType::Internal,
            message: message.into(),
        }
    }

    /// Maps an engine failure: limits → `execution`, deadline → `timeout`, storage →
    /// `internal`, malformed ranges → `bad_data`, everything else → `execution`.
    pub(crate) fn from_engine(e: &EngineError) -> Self {
        let kind = match e {
            EngineError::Timeout { .. } => ErrorType::Timeout,
            EngineError::Cancelled { .. } => ErrorType::Canceled,
            EngineError::Storage(_) => ErrorType::Internal,
            EngineError::InvalidRange(_) | EngineError::Parse(_) => ErrorType::BadData,
            _ => ErrorType::Execution,
        };
        ApiError {
            kind,
            message: e.to_string(),
        }
    }

    /// The envelope as JSON.
    pub(crate) fn to_json(&self) -> String {
        let mut out = String::from("{\"status\":\"error\",\"errorType\":");
        push_str(&mut out, self.kind.as_str());
        out.push_str(",\"error\":");
        push_str(&mut out, &self.message);
        out.push('}');
        out
    }
}

impl From<String> for ApiError {
    fn from(message: String) -> Self {
        ApiError::bad_data(message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.kind.status(), self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        assert_eq!(
            Success::data("[]".into()).to_json(),
            r#"{"status":"success","data":[]}"#
        );
        let e = ApiError::bad_data("x \"y\"");
        assert_eq!(
            e.to_json(),
            r#"{"status":"error","errorType":"bad_data","error":"x \"y\""}"#
        );
        assert_eq!(e.kind.status(), StatusCode::BAD_REQUEST);
        let s = Success {
            data: "1".into(),
            warnings: (0..12).map(|i| i.to_string()).collect(),
            infos: vec![],
        };
        let j = s.to_json();
        assert!(
            j.ends_with(r#""9","2 more warning annotations omitted"]}"#),
            "{j}"
        );
    }

    #[test]
    fn engine_errors_map_to_upstream_codes() {
        let e = ApiError::from_engine(&EngineError::TooManySamples { limit: 1 });
        assert_eq!(
            (e.kind, e.kind.status().as_u16()),
            (ErrorType::Execution, 422)
        );
        let e = ApiError::from_engine(&EngineError::Timeout { phase: "x" });
        assert_eq!(
            (e.kind, e.kind.status().as_u16()),
            (ErrorType::Timeout, 503)
        );
    }
}
