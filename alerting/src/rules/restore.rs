//! Restoring the `for` state of alerts after a restart from `ALERTS_FOR_STATE` (upstream
//! `Group.RestoreForState`).

use kagari_model::{is_stale, MatchType, Matcher, Timestamp};
use kagari_promql::storage::{Queryable, SelectHints, StorageError, ValueType};

use super::{AlertState, AlertingRule, Group, Rule};

impl AlertingRule {
    /// Moves `active_at` of the currently pending/firing alerts so that time spent before a
    /// restart counts towards `for`, as Prometheus does on its first evaluations after
    /// start-up; then marks the rule restored (it writes `ALERTS`/`ALERTS_FOR_STATE` from
    /// now on). Rules with `for` below `grace_ms` are just marked restored.
    pub fn restore_for_state(
        &mut self,
        now: Timestamp,
        storage: &dyn Queryable,
        grace_ms: i64,
        outage_tolerance_ms: i64,
    ) -> Result<(), StorageError> {
        let for_ms = self.for_ms();
        if for_ms < grace_ms {
            self.set_restored(true);
            return Ok(());
        }
        let mint = now - outage_tolerance_ms;
        let querier = storage.querier(mint, now)?;
        let hints = SelectHints {
            start: mint,
            end: now,
            ..SelectHints::default()
        };
        for a in self.alerts_mut() {
            if a.state == AlertState::Inactive {
                continue;
            }
            let want = a.labels.with("__name__", "ALERTS_FOR_STATE");
            let matchers: Vec<Matcher> = want
                .iter()
                .filter_map(|l| Matcher::new(MatchType::Equal, &l.name, &l.value).ok())
                .collect();
            let mut set = querier.select(false, &hints, &matchers)?;
            let mut last: Option<(Timestamp, f64)> = None;
            while let Some(series) = set.next_series() {
                if *series.labels() != want {
                    continue;
                }
                let mut it = series.iterator(None);
                loop {
                    match it.next() {
                        ValueType::None => break,
                        ValueType::Float => last = Some(it.at()),
                        _ => {}
                    }
                }
                if let Some(e) = it.take_err() {
                    return Err(e);
                }
            }
            if let Some(e) = set.take_err() {
                return Err(e);
            }
            let Some((down_at, v)) = last else { continue };
            if is_stale(v) || !v.is_finite() {
                continue;
            }
            // Upstream keeps second precision: time.Unix(int64(v), 0).
            let old_active_at = (v as i64).saturating_mul(1000);
            let remaining = for_ms - (down_at - old_active_at);
            if remaining <= 0 {
                continue;
            }
            a.active_at = if remaining < grace_ms {
                now + grace_ms - for_ms
            } else {
                old_active_at + (now - down_at)
            };
        }
        self.set_restored(true);
        Ok(())
    }
}

impl Group {
    /// Restores the `for` state of every alerting rule (see
    /// [`AlertingRule::restore_for_state`]).
    pub fn restore_for_state(
        &mut self,
        now: Timestamp,
        storage: &dyn Queryable,
        grace_ms: i64,
        outage_tolerance_ms: i64,
    ) -> Result<(), StorageError> {
        for r in self.rules_mut() {
            if let Rule::Alerting(a) = r {
                a.restore_for_state(now, storage, grace_ms, outage_tolerance_ms)?;
            }
        }
        Ok(())
    }
}
