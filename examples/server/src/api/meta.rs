//! Metadata endpoints over storage: `series`, `labels`, `label/<name>/values`.

use std::collections::BTreeSet;
use std::sync::Arc;

use kagari_model::{Labels, Matcher};
use kagari_promql::{Expr, ParseErrorKind};

use super::json::{push_labels, push_str_array};
use super::params::{self, Params};
use super::response::{ApiError, Success};
use super::time::{MAX_TIME, MIN_TIME};
use crate::state::AppState;

const TRUNCATED: &str = "results truncated due to limit";
const NON_EMPTY: &str = "match[] must contain at least one non-empty matcher";

/// Parses every `match[]` into matcher sets, each with at least one matcher that does not
/// match the empty string.
pub(super) fn match_sets(p: &Params) -> Result<Vec<Vec<Matcher>>, ApiError> {
    let mut out = Vec::new();
    for s in p.all("match[]") {
        let expr = kagari_promql::parse(s).map_err(|e| match e.message {
            // Upstream's selector parser leaves this check to the API, with its own text.
            ParseErrorKind::Invalid(m) if m.contains("at least one non-empty matcher") => {
                ApiError::bad_data(NON_EMPTY)
            }
            _ => ApiError::bad_data(format!("invalid parameter \"match[]\": {e}")),
        })?;
        let Expr::VectorSelector(vs) = expr else {
            return Err(ApiError::bad_data(format!(
                "invalid parameter \"match[]\": {s:?} is not a series selector"
            )));
        };
        if vs.matchers.iter().all(|m| m.matches("")) {
            return Err(ApiError::bad_data(NON_EMPTY));
        }
        out.push(vs.matchers);
    }
    Ok(out)
}

fn range(p: &Params) -> Result<(i64, i64), ApiError> {
    let start = params::time_or(p, "start", MIN_TIME)?;
    let end = params::time_or(p, "end", MAX_TIME)?;
    Ok((start, end))
}

/// Runs `f` on the blocking pool (storage reads may touch disk).
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("storage task failed: {e}")))?
}

fn truncate<T>(items: &mut Vec<T>, limit: usize) -> Vec<String> {
    if limit > 0 && items.len() > limit {
        items.truncate(limit);
        vec![TRUNCATED.to_string()]
    } else {
        Vec::new()
    }
}

/// `/api/v1/series`.
pub(crate) async fn series(st: Arc<AppState>, p: Params) -> Result<Success, ApiError> {
    if p.get("match[]").is_none() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let (start, end) = range(&p)?;
    let limit = params::limit(&p)?;
    let sets = match_sets(&p)?;
    let db = st.db.clone();
    let mut all: Vec<Labels> = blocking(move || {
        let q = db.querier(start, end);
        let mut seen = BTreeSet::new();
        for ms in &sets {
            for s in q
                .select(ms)
                .map_err(|e| ApiError::internal(e.to_string()))?
            {
                seen.insert(s.labels().clone());
            }
        }
        Ok(seen.into_iter().collect())
    })
    .await?;
    let warnings = truncate(&mut all, limit);
    let mut data = String::from("[");
    for (i, l) in all.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        push_labels(&mut data, l);
    }
    data.push(']');
    Ok(Success {
        data,
        warnings,
        infos: vec![],
    })
}

/// Label names (`name == None`) or values of `name`, unioned over the `match[]` sets.
async fn names_or_values(
    st: Arc<AppState>,
    p: Params,
    name: Option<String>,
) -> Result<Success, ApiError> {
    let (start, end) = range(&p)?;
    let limit = params::limit(&p)?;
    let mut sets = match_sets(&p)?;
    if sets.is_empty() {
        sets.push(Vec::new());
    }
    let db = st.db.clone();
    let mut all: Vec<String> = blocking(move || {
        let q = db.querier(start, end);
        let mut seen = BTreeSet::new();
        for ms in &sets {
            let found = match &name {
                None => q.label_names(ms),
                Some(n) => q.label_values(n, ms),
            }
            .map_err(|e| ApiError::internal(e.to_string()))?;
            seen.extend(found);
        }
        Ok(seen.into_iter().collect())
    })
    .await?;
    let warnings = truncate(&mut all, limit);
    let mut data = String::new();
    push_str_array(&mut data, &all);
    Ok(Success {
        data,
        warnings,
        infos: vec![],
    })
}

/// `/api/v1/labels`.
pub(crate) async fn labels(st: Arc<AppState>, p: Params) -> Result<Success, ApiError> {
    names_or_values(st, p, None).await
}

/// `/api/v1/label/<name>/values`.
pub(crate) async fn label_values(
    st: Arc<AppState>,
    p: Params,
    name: String,
) -> Result<Success, ApiError> {
    let name = unescape_label_name(&name);
    if name.is_empty() {
        return Err(ApiError::bad_data(format!("invalid label name: {name:?}")));
    }
    names_or_values(st, p, Some(name)).await
}

/// Decodes the `U__` "values" escaping of label names in paths; malformed encodings are left
/// unchanged, `U__` included.
pub(crate) fn unescape_label_name(s: &str) -> String {
    let Some(rest) = s.strip_prefix("U__") else {
        return s.to_string();
    };
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '_' {
            if !(c.is_ascii_alphanumeric() || c == ':') {
                return s.to_string();
            }
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'_') {
            chars.next();
            out.push('_');
            continue;
        }
        let mut hex = String::new();
        loop {
            match chars.next() {
                Some('_') => break,
                Some(h) if h.is_ascii_hexdigit() && hex.len() < 6 => hex.push(h),
                _ => return s.to_string(),
            }
        }
        match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
            Some(ch) if !hex.is_empty() => out.push(ch),
            _ => return s.to_string(),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u_escaping() {
        assert_eq!(unescape_label_name("job"), "job");
        assert_eq!(
            unescape_label_name("U__http_2e_status__code"),
            "http.status_code"
        );
        assert_eq!(unescape_label_name("U__a_zz_"), "U__a_zz_");
        assert_eq!(unescape_label_name("U__a_2e"), "U__a_2e");
    }

    #[test]
    fn match_sets_need_a_non_empty_matcher() {
        let p = |q: &str| Params::from_request(&Default::default(), Some(q), b"");
        assert_eq!(match_sets(&p("match[]=up")).unwrap().len(), 1);
        let e = match_sets(&p("match[]=%7Bjob%3D~%22.*%22%7D")).unwrap_err();
        assert_eq!(
            e.message,
            "match[] must contain at least one non-empty matcher"
        );
        assert!(match_sets(&p("match[]=1%2B1")).is_err());
        assert!(match_sets(&p("match[]=up%7B")).is_err());
    }
}
