//! `/alerts` and `/rules` in headless Chromium with a rule file loaded: a firing alert, a
//! pending one (long `for`), an inactive one and a recording rule.

use serde_json::json;

use crate::common::Server;
use crate::webdriver::Browser;
use crate::{chromium_or_skip, shot};

const RULES: &str = "groups:
  - name: ui-demo
    interval: 1s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: AlwaysFiring
        expr: up == 1
        labels: {severity: page}
        annotations: {summary: '{{ $labels.instance }} is up'}
      - alert: PendingLong
        expr: up == 1
        for: 1h
      - alert: NeverFires
        expr: up == 0
";

#[test]
fn ui_alerts_and_rules_pages() {
    let Some((chromium, chromedriver)) = chromium_or_skip("ui_alerts_and_rules_pages") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("ui.rules.yml");
    std::fs::write(&rules, RULES).unwrap();
    let extra = format!("rule_files: ['{}']\n", rules.display());
    let s = Server::start_in(dir, &extra, &[]);
    s.wait_for_vector("ALERTS{alertstate=\"firing\"}");
    let b = Browser::start(&chromium, &chromedriver);

    b.goto(&s.url("/alerts"));
    let summary = b.wait_for(
        "the alert state counts",
        "const p = document.querySelector('#rules p.muted'); return p ? p.innerText : null;",
        |_| {},
    );
    assert_eq!(summary, json!("Inactive: 1 · Pending: 1 · Firing: 1"));
    // Opening the firing rule shows its definition and its alert's labels.
    b.click(&b.find("details.alert-rule summary"));
    let firing = b.execute(
        "const d = document.querySelector('details.alert-rule');
         return [d.open, d.querySelector('summary').innerText, d.querySelector('tr.alert').innerText];",
        &[],
    );
    let firing = firing.as_array().cloned().unwrap_or_default();
    assert_eq!(firing.first(), Some(&json!(true)), "{firing:?}");
    let title = firing.get(1).and_then(|v| v.as_str()).unwrap_or_default();
    assert!(
        title.starts_with("FIRING") && title.contains("AlwaysFiring (1 active)"),
        "{title}"
    );
    let alert = firing.get(2).and_then(|v| v.as_str()).unwrap_or_default();
    assert!(alert.contains("alertname=\"AlwaysFiring\""), "{alert}");
    assert!(alert.contains("severity=\"page\""), "{alert}");
    assert!(alert.contains("FIRING"), "{alert}");
    shot(&b, "alerts");
    // Hiding firing and pending leaves the inactive rule only.
    b.click(&b.find("#show-firing"));
    b.click(&b.find("#show-pending"));
    let shown = b.wait_for(
        "only the inactive rule",
        "const s = [...document.querySelectorAll('details.alert-rule summary')].map(e => e.innerText);
         return s.length === 1 ? s : null;",
        |_| {},
    );
    assert_eq!(shown, json!(["INACTIVE NeverFires (0 active)"]));

    b.goto(&s.url("/rules"));
    let rows = b.wait_for(
        "the rule rows",
        "const r = [...document.querySelectorAll('tr.rule-row')];
         return r.length === 4 ? r.map(e => e.innerText) : null;",
        |_| {},
    );
    let rows: Vec<String> = rows
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    assert!(
        rows[0].starts_with("record: job:up:sum\nexpr: sum by (job) (up)"),
        "{rows:?}"
    );
    assert!(rows.iter().all(|r| r.contains("OK")), "{rows:?}");
    assert!(
        rows[2].contains("for: 1h") && rows[2].contains("PENDING"),
        "{rows:?}"
    );
    let link = b.execute(
        "return document.querySelector('tr.rule-row a.expr').href",
        &[],
    );
    let link = link.as_str().unwrap_or_default();
    assert!(
        link.contains("/graph?g0.expr=sum+by+%28job%29+%28up%29"),
        "{link}"
    );
    shot(&b, "rules");
}
