//! Admin endpoints (`--web.enable-admin-api`): `snapshot`, `delete_series`,
//! `clean_tombstones` (the last is not implemented yet: the TSDB has no tombstone compaction).

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::json::push_str;
use super::meta::{blocking, match_sets};
use super::params::{self, Params};
use super::response::{ApiError, ErrorType, Success};
use super::time::{format_rfc3339_nano, now_ms, MAX_TIME, MIN_TIME};
use crate::state::AppState;

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// `20171210T211224Z-2be650b6d019eb54`.
fn snapshot_name() -> String {
    let ms = now_ms();
    let stamp = format_rfc3339_nano(ms.div_euclid(1000), 0);
    let compact: String = stamp.chars().filter(|c| *c != '-' && *c != ':').collect();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(ms);
    h.write_u32(std::process::id());
    format!("{compact}-{:016x}", h.finish())
}

/// `/api/v1/admin/tsdb/snapshot`.
pub(crate) async fn snapshot(st: Arc<AppState>, p: Params) -> Result<Success, ApiError> {
    let skip_head = match p.value("skip_head") {
        "" => false,
        s => parse_bool(s).ok_or_else(|| {
            ApiError::bad_data(format!(
                "unable to parse boolean 'skip_head' argument: strconv.ParseBool: parsing {s:?}: invalid syntax"
            ))
        })?,
    };
    if skip_head {
        return Err(ApiError::internal(
            "skip_head=true is not supported by kagari yet",
        ));
    }
    let name = snapshot_name();
    let dir = st.db.dir().join("snapshots").join(&name);
    let db = st.db.clone();
    blocking(move || {
        db.snapshot(&dir)
            .map(|_| ())
            .map_err(|e| ApiError::internal(format!("create snapshot: {e}")))
    })
    .await?;
    let mut data = String::from("{\"name\":");
    push_str(&mut data, &name);
    data.push('}');
    Ok(Success::data(data))
}

/// `/api/v1/admin/tsdb/delete_series`: 204 on success.
pub(crate) async fn delete_series(st: Arc<AppState>, p: Params) -> Result<Response, ApiError> {
    if p.get("match[]").is_none() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let start = params::time_or(&p, "start", MIN_TIME)?;
    let end = params::time_or(&p, "end", MAX_TIME)?;
    let sets = match_sets(&p)?;
    let db = st.db.clone();
    blocking(move || {
        for ms in &sets {
            db.delete(ms, start, end)
                .map_err(|e| ApiError::internal(e.to_string()))?;
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `/api/v1/admin/tsdb/clean_tombstones`: not implemented yet.
pub(crate) async fn clean_tombstones() -> ApiError {
    ApiError {
        kind: ErrorType::Internal,
        message: "clean_tombstones is not implemented by kagari yet".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_look_like_upstream() {
        let n = snapshot_name();
        let (stamp, hex) = n.split_once('-').unwrap();
        assert_eq!(stamp.len(), 16, "{n}");
        assert!(stamp.ends_with('Z') && stamp.as_bytes()[8] == b'T', "{n}");
        assert_eq!(hex.len(), 16);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn go_bools() {
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }
}
