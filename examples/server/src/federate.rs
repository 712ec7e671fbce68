//! `/federate`: the latest sample (within the lookback delta, at or before now) of every
//! series matching a `match[]` selector, in the text exposition format with timestamps,
//! external labels appended (upstream's `web/federate.go`; protobuf output not implemented).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kagari_exposition::{Encoder, Format, MetricType, Value};
use kagari_model::{is_stale, Labels, Matcher};
use kagari_promql::Expr;

use crate::api::time::now_ms;
use crate::api::Params;
use crate::state::AppState;

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores";

fn bad_request(msg: String) -> Response {
    (StatusCode::BAD_REQUEST, msg).into_response()
}

fn selectors(p: &Params) -> Result<Vec<Vec<Matcher>>, String> {
    p.all("match[]")
        .map(|s| match kagari_promql::parse(s) {
            Ok(Expr::VectorSelector(vs)) => Ok(vs.matchers),
            Ok(_) => Err(format!("{s:?} is not a series selector")),
            Err(e) => Err(e.to_string()),
        })
        .collect()
}

/// One federated series: labels, timestamp, value.
type Latest = (Labels, i64, f64);

/// The latest non-stale sample of every series matching any of `sets` in `(now - lookback, now]`.
fn latest(
    db: &kagari_tsdb::Db,
    sets: &[Vec<Matcher>],
    now: i64,
    lookback: i64,
) -> Result<Vec<Latest>, kagari_tsdb::Error> {
    let q = db.querier(now.saturating_sub(lookback), now);
    let mut found: BTreeMap<Labels, (i64, f64)> = BTreeMap::new();
    for ms in sets {
        for s in q.select(ms)? {
            if found.contains_key(s.labels()) {
                continue;
            }
            let mut it = s.iter();
            let mut last = None;
            while it.next() != kagari_tsdb::chunkenc::ValueType::None {
                let (t, v) = it.at();
                if t > now {
                    break;
                }
                last = Some((t, v));
            }
            if let Some(e) = it.take_err() {
                return Err(e);
            }
            if let Some((t, v)) = last.filter(|(_, v)| !is_stale(*v)) {
                found.insert(s.labels().clone(), (t, v));
            }
        }
    }
    Ok(found.into_iter().map(|(l, (t, v))| (l, t, v)).collect())
}

/// Encodes series grouped by metric name, each line followed by the missing external labels
/// (`instance` always counts as one, defaulting to `""`).
fn encode(series: &[Latest], external: &BTreeMap<String, String>) -> std::io::Result<Vec<u8>> {
    let mut ext: BTreeMap<&str, &str> = external
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    ext.entry("instance").or_insert("");
    let mut by_name: BTreeMap<&str, Vec<&Latest>> = BTreeMap::new();
    for s in series {
        by_name
            .entry(s.0.get("__name__").unwrap_or(""))
            .or_default()
            .push(s);
    }
    let mut enc = Encoder::new(Vec::new(), Format::Text);
    for (name, members) in by_name {
        enc.family(name, MetricType::Unknown, "", None)?;
        for (labels, t, v) in members {
            let own = labels
                .iter()
                .filter(|l| &*l.name != "__name__")
                .map(|l| (&*l.name, &*l.value));
            let missing = ext
                .iter()
                .filter(|(k, _)| labels.get(k).is_none_or(str::is_empty))
                .map(|(k, v)| (*k, *v));
            enc.sample(
                "",
                own.chain(missing),
                None,
                Value::Float(*v),
                Some(*t),
                None,
            )?;
        }
    }
    enc.finish()
}

/// `GET /federate`.
pub(crate) async fn federate(State(st): State<Arc<AppState>>, p: Params) -> Response {
    let sets = match selectors(&p) {
        Ok(s) => s,
        Err(e) => return bad_request(e),
    };
    if sets.is_empty() {
        return StatusCode::OK.into_response();
    }
    let external = st.config().config.global.external_labels;
    let lookback = st.engine.lookback_delta;
    let db = st.db.clone();
    let now = now_ms();
    let res = tokio::task::spawn_blocking(move || {
        let series = latest(&db, &sets, now, lookback).map_err(|e| e.to_string())?;
        encode(&series, &external).map_err(|e| e.to_string())
    })
    .await;
    match res {
        Ok(Ok(body)) => {
            let mut r = body.into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            r
        }
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kagari_model::STALE_NAN;

    #[test]
    fn latest_samples_with_external_labels_like_upstream() {
        let dir = tempfile::tempdir().unwrap();
        let db = kagari_tsdb::Db::open(dir.path(), kagari_tsdb::Options::default()).unwrap();
        let up = Labels::from_pairs([
            ("__name__", "up"),
            ("instance", "localhost:9090"),
            ("job", "prometheus"),
        ])
        .unwrap();
        let rate =
            Labels::from_pairs([("__name__", "job:http_requests:rate5m"), ("job", "api")]).unwrap();
        let gone = Labels::from_pairs([("__name__", "gone"), ("job", "api")]).unwrap();
        let mut app = db.appender();
        app.append(None, &up, 1_000, 0.0).unwrap();
        app.append(None, &up, 2_000, 1.0).unwrap();
        app.append(None, &up, 9_000, 5.0).unwrap(); // after "now"
        app.append(None, &rate, 1_500, 12.5).unwrap();
        app.append(None, &gone, 1_000, 1.0).unwrap();
        app.append(None, &gone, 2_000, STALE_NAN).unwrap();
        app.commit().unwrap();

        let all = vec![Matcher::new(kagari_model::MatchType::Regex, "__name__", ".+").unwrap()];
        let series = latest(&db, &[all.clone(), all], 3_000, 300_000).unwrap();
        assert_eq!(series.len(), 2);
        let ext = BTreeMap::from([("cluster".to_string(), "eu1".to_string())]);
        let text = String::from_utf8(encode(&series, &ext).unwrap()).unwrap();
        assert_eq!(
            text,
            "# TYPE job:http_requests:rate5m untyped\n\
             job:http_requests:rate5m{job=\"api\",cluster=\"eu1\",instance=\"\"} 12.5 1500\n\
             # TYPE up untyped\n\
             up{instance=\"localhost:9090\",job=\"prometheus\",cluster=\"eu1\"} 1 2000\n"
        );
    }
}
