//! What an evaluation hands to the notifier: upstream's `sendAlerts` decisions and the
//! Alertmanager alert fields.

use std::collections::BTreeMap;

use kagari_model::{Labels, Timestamp};

use super::{AlertState, AlertingRule};
use crate::template::text::query_escape;

/// An alert as sent to Alertmanager (before external labels and relabeling).
#[derive(Debug, Clone, PartialEq)]
pub struct NotifierAlert {
    /// Instance labels.
    pub labels: Labels,
    /// Expanded annotations.
    pub annotations: BTreeMap<String, String>,
    /// `startsAt` (ms): when the alert started firing.
    pub starts_at: Option<Timestamp>,
    /// `endsAt` (ms): the resolve time, or `validUntil` for firing alerts.
    pub ends_at: Option<Timestamp>,
    /// `<external URL>/graph?g0.expr=<expr>&g0.tab=1`.
    pub generator_url: String,
}

impl AlertingRule {
    /// Picks the alerts that need (re)sending at `ts` and marks them sent (upstream
    /// `sendAlerts`): `last_sent_at = ts`, `valid_until = ts + 4 * max(interval, resend)`.
    /// Call only after a successful evaluation.
    pub fn alerts_to_send(
        &mut self,
        ts: Timestamp,
        resend_delay_ms: i64,
        group_interval_ms: i64,
        external_url: &str,
    ) -> Vec<NotifierAlert> {
        let generator_url = format!(
            "{external_url}/graph?g0.expr={}&g0.tab=1",
            query_escape(&self.expr().to_string())
        );
        let delta = resend_delay_ms.max(group_interval_ms);
        let mut out = Vec::new();
        for a in self.alerts_mut() {
            if !a.needs_sending(ts, resend_delay_ms) {
                continue;
            }
            a.last_sent_at = Some(ts);
            a.valid_until = Some(ts + 4 * delta);
            out.push(NotifierAlert {
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at: a.fired_at,
                ends_at: if a.state == AlertState::Inactive {
                    a.resolved_at
                } else {
                    a.valid_until
                },
                generator_url: generator_url.clone(),
            });
        }
        out.sort_by(|x, y| x.labels.cmp(&y.labels));
        out
    }
}
