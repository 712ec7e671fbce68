//! Targets: label derivation from discovery, target relabeling, validation, the scrape URL
//! and the deterministic scrape offset (Prometheus `PopulateLabels`, `Target.URL`, `offset`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use kagari_model::{relabel_builder, Labels, LabelsBuilder};

use crate::config::{PromDuration, ScrapeConfig};
use crate::discovery::{LabelSet, TargetGroup};

/// Why a relabeled target was discarded (not listed as dropped; logged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// `__address__` is empty or missing.
    #[error("no address")]
    NoAddress,
    /// `__address__` contains `/`.
    #[error("{0:?} is not a valid hostname")]
    BadHostname(String),
    /// `__scrape_interval__` or `__scrape_timeout__` is not a non-zero duration.
    #[error("error parsing {label}: {value:?}")]
    BadDuration {
        /// The label name.
        label: &'static str,
        /// Its value.
        value: String,
    },
    /// The timeout exceeds the interval.
    #[error("scrape timeout cannot be greater than scrape interval ({timeout:?} > {interval:?})")]
    TimeoutTooLarge {
        /// The timeout label.
        timeout: String,
        /// The interval label.
        interval: String,
    },
    /// A histogram flag label is not a boolean.
    #[error("error parsing {label}: {value:?} is not a boolean")]
    BadBool {
        /// The label name.
        label: &'static str,
        /// Its value.
        value: String,
    },
}

/// A target after relabeling: what one scrape loop scrapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    labels: Labels,
    discovered: Labels,
    public: Labels,
    url: String,
    interval: Duration,
    timeout: Duration,
}

impl Target {
    /// All labels after relabeling, including the remaining `__*` labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }
    /// The labels before relabeling (the API's `discoveredLabels`).
    pub fn discovered_labels(&self) -> &Labels {
        &self.discovered
    }
    /// The labels attached to every sample: everything not starting with `__`.
    pub fn public_labels(&self) -> &Labels {
        &self.public
    }
    /// The scrape URL.
    pub fn url(&self) -> &str {
        &self.url
    }
    /// The scrape interval (from `__scrape_interval__`).
    pub fn interval(&self) -> Duration {
        self.interval
    }
    /// The scrape timeout (from `__scrape_timeout__`).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// Target identity: hash of all labels and the URL. Equal hashes share one loop.
    pub fn hash(&self) -> u64 {
        let mut buf = format!("{:016}", self.labels.stable_hash());
        buf.push_str(&self.url);
        fnv64a(buf.as_bytes())
    }
    /// The offset of this target's scrapes within its interval, stable across restarts.
    /// `seed` differs between servers so HA pairs do not scrape in lock-step.
    pub fn offset(&self, seed: u64) -> Duration {
        let interval = u64::try_from(self.interval.as_nanos())
            .unwrap_or(u64::MAX)
            .max(1);
        Duration::from_nanos((self.hash() ^ seed) % interval)
    }
}

/// FNV-1a, 64 bit.
pub(crate) fn fnv64a(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in b {
        h ^= u64::from(c);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The result of turning one target group into targets.
#[derive(Debug, Default)]
pub struct GroupTargets {
    /// Targets to scrape.
    pub active: Vec<Target>,
    /// Discovered label sets that relabeling dropped (kept for the API).
    pub dropped: Vec<Labels>,
    /// Targets discarded as invalid, with their discovered labels.
    pub failed: Vec<(Labels, TargetError)>,
}

/// Derives, relabels and validates every target of `group` for job `cfg`.
pub fn targets_from_group(group: &TargetGroup, cfg: &ScrapeConfig) -> GroupTargets {
    let mut out = GroupTargets::default();
    for t in &group.targets {
        let discovered = discovered_labels(t, &group.labels, cfg);
        match populate_labels(&discovered, cfg) {
            Ok(Some(target)) => out.active.push(target),
            Ok(None) => out.dropped.push(discovered),
            Err(e) => out.failed.push((discovered, e)),
        }
    }
    out
}

/// Steps 1–3: target labels, then group labels, then job defaults where not set.
pub fn discovered_labels(target: &LabelSet, group: &LabelSet, cfg: &ScrapeConfig) -> Labels {
    let mut b = LabelsBuilder::new();
    for (n, v) in target {
        b.set(n, v);
    }
    for (n, v) in group {
        if b.get(n).is_none() {
            b.set(n, v);
        }
    }
    let bool_str = |v: Option<bool>| if v.unwrap_or(false) { "true" } else { "false" };
    let defaults = [
        ("job", cfg.job_name.clone()),
        ("__scrape_interval__", cfg.interval().to_string()),
        ("__scrape_timeout__", cfg.timeout().to_string()),
        ("__metrics_path__", cfg.metrics_path().to_string()),
        ("__scheme__", cfg.scheme().to_string()),
        (
            "__scrape_native_histograms__",
            bool_str(cfg.scrape_native_histograms).into(),
        ),
        (
            "__convert_classic_histograms_to_nhcb__",
            bool_str(cfg.convert_classic_histograms_to_nhcb).into(),
        ),
        (
            "__always_scrape_classic_histograms__",
            bool_str(cfg.always_scrape_classic_histograms).into(),
        ),
    ];
    for (n, v) in defaults {
        if b.get(n).is_none() {
            b.set(n, &v);
        }
    }
    for (name, values) in &cfg.params {
        let n = format!("__param_{name}");
        if let (None, Some(first)) = (b.get(&n), values.first()) {
            b.set(&n, first);
        }
    }
    b.build()
}

/// Steps 4–9: relabel, validate, drop `__meta_*`, default `instance`, build the URL.
/// `Ok(None)` means relabeling dropped the target.
pub fn populate_labels(
    discovered: &Labels,
    cfg: &ScrapeConfig,
) -> Result<Option<Target>, TargetError> {
    let mut b = discovered.to_builder();
    if !relabel_builder(&mut b, &cfg.relabel_configs) {
        return Ok(None);
    }
    let addr = b.get("__address__").unwrap_or("").to_string();
    if addr.is_empty() {
        return Err(TargetError::NoAddress);
    }
    if addr.contains('/') {
        return Err(TargetError::BadHostname(addr));
    }
    let interval = parse_duration_label(&b, "__scrape_interval__")?;
    let timeout = parse_duration_label(&b, "__scrape_timeout__")?;
    if timeout > interval {
        return Err(TargetError::TimeoutTooLarge {
            timeout: b.get("__scrape_timeout__").unwrap_or("").into(),
            interval: b.get("__scrape_interval__").unwrap_or("").into(),
        });
    }
    for label in [
        "__scrape_native_histograms__",
        "__convert_classic_histograms_to_nhcb__",
        "__always_scrape_classic_histograms__",
    ] {
        if let Some(v) = b.get(label) {
            if !matches!(
                v,
                "true"
                    | "false"
                    | "1"
                    | "0"
                    | "t"
                    | "f"
                    | "TRUE"
                    | "FALSE"
                    | "True"
                    | "False"
                    | "T"
                    | "F"
            ) {
                return Err(TargetError::BadBool {
                    label,
                    value: v.into(),
                });
            }
        }
    }
    b.retain(|n, _| !n.starts_with("__meta_"));
    if b.get("instance").is_none() {
        b.set("instance", &addr);
    }
    let labels = b.build();
    let url = scrape_url(&labels, &cfg.params);
    let public = Labels::from_sorted_unchecked(
        labels
            .iter()
            .filter(|l| !l.name.starts_with("__"))
            .cloned()
            .collect(),
    );
    Ok(Some(Target {
        labels,
        discovered: discovered.clone(),
        public,
        url,
        interval: interval.as_duration(),
        timeout: timeout.as_duration(),
    }))
}

fn parse_duration_label(
    b: &LabelsBuilder,
    label: &'static str,
) -> Result<PromDuration, TargetError> {
    let v = b.get(label).unwrap_or("");
    match v.parse::<PromDuration>() {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(TargetError::BadDuration {
            label,
            value: v.into(),
        }),
    }
}

/// `<__scheme__>://<__address__><__metrics_path__>?<params>`, with `__param_<name>` labels
/// replacing the first value of each parameter.
///
/// ```
/// use std::collections::BTreeMap;
/// use kagari_model::Labels;
/// let l = Labels::from_pairs([("__scheme__", "http"), ("__address__", "h:9115"),
///     ("__metrics_path__", "/probe"), ("__param_target", "a b")]).unwrap();
/// let params = BTreeMap::from([("module".to_string(), vec!["x".to_string()])]);
/// assert_eq!(kagari_scrape::scrape_url(&l, &params), "http://h:9115/probe?module=x&target=a+b");
/// ```
pub fn scrape_url(labels: &Labels, params: &BTreeMap<String, Vec<String>>) -> String {
    let mut q = params.clone();
    for l in labels.iter() {
        if let Some(name) = l.name.strip_prefix("__param_") {
            let vals = q.entry(name.to_string()).or_default();
            match vals.first_mut() {
                Some(first) => *first = l.value.to_string(),
                None => vals.push(l.value.to_string()),
            }
        }
    }
    let mut url = format!(
        "{}://{}{}",
        labels.get("__scheme__").unwrap_or("http"),
        labels.get("__address__").unwrap_or(""),
        labels.get("__metrics_path__").unwrap_or("")
    );
    let mut first = true;
    for (k, vs) in &q {
        for v in vs {
            url.push(if first { '?' } else { '&' });
            first = false;
            query_escape(&mut url, k);
            url.push('=');
            query_escape(&mut url, v);
        }
    }
    url
}

/// Go `url.QueryEscape`.
fn query_escape(out: &mut String, s: &str) {
    for &c in s.as_bytes() {
        match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(c))
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{c:02X}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn job(yaml: &str) -> ScrapeConfig {
        Config::from_yaml(yaml).unwrap().scrape_configs.remove(0)
    }

    fn group(targets: &[&str], labels: &[(&str, &str)]) -> TargetGroup {
        TargetGroup {
            source: "0".into(),
            targets: targets
                .iter()
                .map(|t| LabelSet::from([("__address__".to_string(), t.to_string())]))
                .collect(),
            labels: labels
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    #[test]
    fn worked_example_from_the_reference() {
        let cfg = job(r"
scrape_configs:
  - job_name: node
    scrape_interval: 30s
    scrape_timeout: 10s
    params: {module: [http_2xx, x]}
    relabel_configs:
      - {source_labels: [__address__], regex: '([^:]+):.*', target_label: host}
");
        let g = group(&["10.1.2.3:9100"], &[("env", "prod")]);
        let out = targets_from_group(&g, &cfg);
        assert_eq!(out.active.len(), 1);
        let t = &out.active[0];
        assert_eq!(
            t.discovered_labels().to_string(),
            r#"{__address__="10.1.2.3:9100", __always_scrape_classic_histograms__="false", __convert_classic_histograms_to_nhcb__="false", __metrics_path__="/metrics", __param_module="http_2xx", __scheme__="http", __scrape_interval__="30s", __scrape_native_histograms__="false", __scrape_timeout__="10s", env="prod", job="node"}"#
        );
        assert_eq!(
            t.public_labels().to_string(),
            r#"{env="prod", host="10.1.2.3", instance="10.1.2.3:9100", job="node"}"#
        );
        assert_eq!(
            t.url(),
            "http://10.1.2.3:9100/metrics?module=http_2xx&module=x"
        );
        assert_eq!(
            (t.interval(), t.timeout()),
            (Duration::from_secs(30), Duration::from_secs(10))
        );
    }

    #[test]
    fn relabel_overrides_drop_and_validation() {
        let cfg = job(r"
scrape_configs:
  - job_name: j
    relabel_configs:
      - {source_labels: [__address__], regex: 'drop.*', action: drop}
      - {source_labels: [__address__], regex: 'slow:.*', target_label: __scrape_interval__, replacement: 2m}
      - {source_labels: [__address__], regex: 'probe:.*', target_label: __param_target, replacement: 'x&y'}
      - {source_labels: [__address__], regex: 'named:.*', target_label: instance, replacement: mine}
      - {source_labels: [__address__], regex: 'bad:.*', target_label: __scrape_timeout__, replacement: 5m}
");
        let g = group(
            &[
                "drop:1",
                "slow:1",
                "probe:1",
                "named:1",
                "bad:1",
                "http://x/y",
                "",
            ],
            &[("__meta_x", "y")],
        );
        let out = targets_from_group(&g, &cfg);
        assert_eq!(out.dropped.len(), 1);
        assert_eq!(out.dropped[0].get("__address__"), Some("drop:1"));
        let urls: Vec<_> = out.active.iter().map(|t| t.url().to_string()).collect();
        assert_eq!(
            urls,
            [
                "http://slow:1/metrics",
                "http://probe:1/metrics?target=x%26y",
                "http://named:1/metrics"
            ]
        );
        assert_eq!(out.active[0].interval(), Duration::from_secs(120));
        assert_eq!(out.active[2].public_labels().get("instance"), Some("mine"));
        assert!(out
            .active
            .iter()
            .all(|t| t.labels().get("__meta_x").is_none()));
        assert!(out.active[0].discovered_labels().get("__meta_x").is_some());
        let errs: Vec<_> = out.failed.iter().map(|(_, e)| e.to_string()).collect();
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].contains("scrape timeout cannot be greater"));
        assert_eq!(errs[1], "\"http://x/y\" is not a valid hostname");
        assert_eq!(errs[2], "no address");
    }

    #[test]
    fn group_labels_do_not_override_target_labels_and_offsets_are_stable() {
        let cfg = job("scrape_configs: [{job_name: j, scrape_interval: 10s}]");
        let mut g = group(
            &["a:1"],
            &[
                ("__address__", "other:1"),
                ("job", "custom"),
                ("__scheme__", "https"),
            ],
        );
        g.targets[0].insert("zone".into(), "eu".into());
        let t = targets_from_group(&g, &cfg).active.remove(0);
        assert_eq!(t.url(), "https://a:1/metrics");
        assert_eq!(
            t.public_labels().to_string(),
            r#"{instance="a:1", job="custom", zone="eu"}"#
        );
        let t2 = targets_from_group(&g, &cfg).active.remove(0);
        assert_eq!(t.hash(), t2.hash());
        assert_eq!(t.offset(7), t2.offset(7));
        assert!(t.offset(7) < Duration::from_secs(10));
        // Offsets spread over the interval.
        let offsets: Vec<Duration> = (0..50)
            .map(|i| {
                let g = group(&[&format!("host{i}:9100")], &[]);
                targets_from_group(&g, &cfg).active.remove(0).offset(0)
            })
            .collect();
        let early = offsets
            .iter()
            .filter(|o| **o < Duration::from_secs(5))
            .count();
        assert!(
            (10..=40).contains(&early),
            "{early} of 50 in the first half"
        );
    }
}
