//! `/api/v1/status/tsdb`: head statistics and cardinality top lists.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use kagari_model::{MatchType, Matcher};
use kagari_tsdb::Querier;
use serde_json::{json, Value};

use super::meta::blocking;
use super::params::Params;
use super::response::{ApiError, Success};
use crate::state::AppState;

/// The `limit` parameter: default 10, 1 to 10 000.
fn limit(p: &Params) -> Result<usize, ApiError> {
    let s = p.value("limit");
    if s.is_empty() {
        return Ok(10);
    }
    match s.parse::<usize>() {
        Ok(n) if (1..=10_000).contains(&n) => Ok(n),
        _ => Err(ApiError::bad_data("limit must be a positive number")),
    }
}

/// The `n` largest entries as `[{"name":…,"value":…}]`, ties by name.
fn top<K: AsRef<str>>(counts: impl IntoIterator<Item = (K, u64)>, n: usize) -> Value {
    let mut v: Vec<(K, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_ref().cmp(b.0.as_ref())));
    Value::Array(
        v.into_iter()
            .take(n)
            .map(|(k, c)| json!({"name": k.as_ref(), "value": c}))
            .collect(),
    )
}

/// `/api/v1/status/tsdb`.
pub(crate) async fn status(st: Arc<AppState>, p: Params) -> Result<Success, ApiError> {
    let n = limit(&p)?;
    let db = st.db.clone();
    let data = blocking(move || {
        let head = db.head().clone();
        let (mint, maxt) = (head.min_time(), head.max_time());
        let q = Querier::new(Some(head.clone()), Vec::new(), mint, maxt);
        let all = Matcher::new(MatchType::Regex, "__name__", ".+")
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let series = q
            .select(&[all])
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let mut by_metric: HashMap<String, u64> = HashMap::new();
        let mut by_pair: HashMap<String, u64> = HashMap::new();
        let mut values: BTreeMap<String, BTreeMap<String, ()>> = BTreeMap::new();
        for s in &series {
            for l in s.labels().iter() {
                if &*l.name == "__name__" {
                    *by_metric.entry(l.value.to_string()).or_default() += 1;
                }
                *by_pair
                    .entry(format!("{}={}", l.name, l.value))
                    .or_default() += 1;
                values
                    .entry(l.name.to_string())
                    .or_default()
                    .insert(l.value.to_string(), ());
            }
        }
        let num_pairs: usize = values.values().map(BTreeMap::len).sum();
        let value_counts = values.iter().map(|(k, v)| (k.as_str(), v.len() as u64));
        let memory = values
            .iter()
            .map(|(k, v)| (k.as_str(), v.keys().map(|s| s.len() as u64).sum::<u64>()));
        Ok(json!({
            "headStats": {
                "numSeries": head.num_series(),
                "numLabelPairs": num_pairs,
                "chunkCount": head.stats().chunks(),
                "minTime": mint,
                "maxTime": maxt,
            },
            "seriesCountByMetricName": top(by_metric, n),
            "labelValueCountByLabelName": top(value_counts, n),
            "memoryInBytesByLabelName": top(memory, n),
            "seriesCountByLabelValuePair": top(by_pair, n),
        }))
    })
    .await?;
    serde_json::to_string(&data)
        .map(Success::data)
        .map_err(|e| ApiError::internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_orders_by_count_then_name() {
        let v = top([("b", 2), ("a", 2), ("c", 5), ("d", 1)], 3);
        assert_eq!(
            v,
            json!([{"name":"c","value":5},{"name":"a","value":2},{"name":"b","value":2}])
        );
    }

    #[test]
    fn limits() {
        let p = |q: &str| Params::from_request(&Default::default(), Some(q), b"");
        assert_eq!(limit(&p("")).unwrap(), 10);
        assert_eq!(limit(&p("limit=3")).unwrap(), 3);
        assert!(limit(&p("limit=0")).is_err());
        assert!(limit(&p("limit=10001")).is_err());
    }
}
