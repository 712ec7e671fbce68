//! One group's evaluation loop (upstream `Group.run`): wait for the group's first slot,
//! evaluate at slot timestamps, count missed slots, restore `for` state after the second
//! evaluation of a freshly started server, hand alerts to the sink.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kagari_model::{Labels, Timestamp, STALE_NAN};

use super::{GroupHandle, Shared, SharedStore, StoreRef};

/// Wall-clock milliseconds since the epoch.
pub(crate) fn now_ms() -> Timestamp {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// After an evaluation at `prev`, woken at `now`: the next evaluation timestamp and how many
/// slots were missed (upstream: `missed = (now - prev) / interval - 1`, at least 0; the
/// timestamp advances by `missed + 1` intervals).
pub(crate) fn advance(prev: Timestamp, now: Timestamp, interval: i64) -> (Timestamp, i64) {
    let iv = interval.max(1);
    let missed = ((now - prev) / iv - 1).max(0);
    (prev + (missed + 1) * iv, missed)
}

/// The loop of one group thread; returns when the group is stopped.
pub(crate) fn run_group(h: Arc<GroupHandle>, shared: Arc<Shared>, should_restore: bool) {
    let (interval, mut ts) = {
        let g = h.lock();
        (g.interval_ms().max(1), g.first_eval_ts(now_ms()))
    };
    if !h.sleep_until(ts) {
        return;
    }
    iterate(&h, &shared, ts, 0);
    if should_restore {
        if !h.sleep_until(ts + interval) {
            return;
        }
        let (next, missed) = advance(ts, now_ms(), interval);
        ts = next;
        iterate(&h, &shared, ts, missed);
        let now = now_ms();
        let opts = &h.opts;
        let res = h.lock().restore_for_state(
            now,
            shared.store.queryable(),
            opts.grace_period_ms,
            opts.outage_tolerance_ms,
        );
        if let Err(e) = res {
            // Upstream logs and goes on; the rules are marked restored either way.
            tracing::warn!(group = h.name(), error = %e, "restoring alert state failed");
            for r in h.lock().rules_mut() {
                if let crate::Rule::Alerting(a) = r {
                    a.set_restored(true);
                }
            }
        }
    }
    loop {
        if !h.sleep_until(ts + interval) {
            return;
        }
        let (next, missed) = advance(ts, now_ms(), interval);
        ts = next;
        iterate(&h, &shared, ts, missed);
    }
}

/// One evaluation at `ts` with `missed` slots skipped before it.
fn iterate(h: &GroupHandle, shared: &Shared, ts: Timestamp, missed: i64) {
    let missed = u64::try_from(missed).unwrap_or(0);
    let st = &h.stats;
    st.iterations_missed.fetch_add(missed, Ordering::Relaxed);
    st.iterations.fetch_add(missed + 1, Ordering::Relaxed);
    let mut g = h.lock();
    let mut store = StoreRef(shared.store.as_ref());
    let errors = g.eval(ts, &h.opts.env, &mut store);
    for (i, e) in &errors {
        let rule = g.rules().get(*i).map_or("", |r| r.name());
        tracing::warn!(group = h.name(), rule, error = %e, "rule evaluation failed");
    }
    st.evaluations
        .fetch_add(g.rules().len() as u64, Ordering::Relaxed);
    st.failures
        .fetch_add(errors.len() as u64, Ordering::Relaxed);
    st.last_eval_ms.store(ts, Ordering::Relaxed);
    st.last_duration_ns.store(
        u64::try_from(g.evaluation_time().as_nanos()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
    let alerts = g.alerts_to_send(ts, h.opts.resend_delay_ms, &h.opts.env.external_url);
    drop(g);
    if let (false, Some(sink)) = (alerts.is_empty(), &shared.sink) {
        sink.send(alerts);
    }
}

/// Writes stale markers at `at` for the series of a removed group, two intervals later
/// (upstream waits so that a renamed rule can write its series first; markers older than a
/// newer sample are rejected and ignored).
pub(crate) fn mark_stale_later(
    store: Arc<dyn SharedStore>,
    series: Vec<Labels>,
    at: Timestamp,
    wait: Duration,
    done: Arc<super::StopSignal>,
) {
    if series.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("rules-stale".into())
        .spawn(move || {
            if done.wait_timeout(wait) {
                return;
            }
            let mut app = store.appender();
            for l in &series {
                let _ = app.append(l, at, STALE_NAN);
            }
            let _ = app.commit();
        });
    // Without a thread the markers are simply not written (series then go stale by lookback).
    drop(spawned);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_counts_missed_slots() {
        assert_eq!(advance(1_000, 2_000, 1_000), (2_000, 0));
        assert_eq!(advance(1_000, 2_999, 1_000), (2_000, 0));
        assert_eq!(advance(1_000, 3_000, 1_000), (3_000, 1));
        assert_eq!(advance(1_000, 5_500, 1_000), (5_000, 3));
        // Woken early (clock jump): still one interval forward.
        assert_eq!(advance(1_000, 1_200, 1_000), (2_000, 0));
    }
}
