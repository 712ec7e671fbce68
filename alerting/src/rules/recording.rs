//! Recording rules: evaluate an expression and store the result under a new metric name.

use std::collections::{BTreeMap, HashSet};

use kagari_model::{Labels, Timestamp};
use kagari_promql::storage::Queryable;
use kagari_promql::Expr;

use super::{query_vector, EvalEnv, RuleError, RuleSample};

/// A recording rule (`record:`).
#[derive(Debug, Clone)]
pub struct RecordingRule {
    name: String,
    expr: Expr,
    labels: BTreeMap<String, String>,
}

impl RecordingRule {
    /// A rule writing `expr` as `name` with `labels` (an empty value removes the label).
    pub fn new(name: &str, expr: Expr, labels: BTreeMap<String, String>) -> RecordingRule {
        RecordingRule {
            name: name.to_string(),
            expr,
            labels,
        }
    }

    /// The output metric name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The labels set on the output.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }

    /// Evaluates at `ts - query_offset`; returns the samples to write (nothing is written on
    /// error).
    pub fn eval(
        &self,
        ts: Timestamp,
        query_offset: i64,
        limit: usize,
        env: &EvalEnv,
        storage: &dyn Queryable,
    ) -> Result<Vec<RuleSample>, RuleError> {
        let t = ts - query_offset;
        let res = query_vector(env, storage, &self.expr, t)?;
        let mut out = Vec::with_capacity(res.len());
        let mut seen: HashSet<Labels> = HashSet::with_capacity(res.len());
        for (metric, v) in res {
            let mut b = metric.to_builder();
            b.set("__name__", &self.name);
            for (k, val) in &self.labels {
                if val.is_empty() {
                    b.del(k);
                } else {
                    b.set(k, val);
                }
            }
            let labels = b.build();
            if !seen.insert(labels.clone()) {
                return Err(RuleError::DuplicateRecordingLabelset);
            }
            out.push(RuleSample { labels, t, v });
        }
        if limit > 0 && out.len() > limit {
            return Err(RuleError::SeriesLimit {
                limit,
                n: out.len(),
            });
        }
        Ok(out)
    }
}
