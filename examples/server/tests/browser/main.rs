//! The web UI end to end.
//!
//! - `ui_pages_are_served`: every page, `/` and the assets over plain HTTP (no browser).
//! - `ui_in_headless_chromium`: Debian's Chromium driven through chromedriver (WebDriver):
//!   run `up` in the Table tab (Enter executes), read the evaluation time in UTC and in
//!   local-time mode, show markup in a label value as text, complete metric names and label
//!   values, draw `rate(prometheus_http_requests_total[1m])` in the Graph tab (legend, hover
//!   tooltip, stacked), show a parse error, keep the history, find the self-scrape target UP on
//!   `/targets` and on `/service-discovery`, and "No rules defined." on `/rules`. Screenshots go
//!   to `target/test-artifacts/ui-*.png`. Without Chromium the test prints a loud SKIP, unless
//!   `KAGARI_REQUIRE_PEERS=true`, in which case it fails.

#[path = "../common/mod.rs"]
mod common;
mod readme;
mod rules_pages;
mod webdriver;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use common::Server;
use webdriver::{Browser, ENTER, ESCAPE, TAB};

/// A query whose result has a label value that is HTML markup.
const INJECTION: &str = r#"label_replace(vector(1), "x", "<b id=\"pwn\">bold</b>", "", "")"#;

/// The UI's pages and the script each must load.
const PAGES: &[(&str, &str)] = &[
    ("/graph", "/assets/graph.js"),
    ("/query", "/assets/graph.js"),
    ("/alerts", "/assets/rules.js"),
    ("/rules", "/assets/rules.js"),
    ("/targets", "/assets/targets.js"),
    ("/service-discovery", "/assets/targets.js"),
    ("/config", "/assets/status.js"),
    ("/flags", "/assets/status.js"),
    ("/tsdb-status", "/assets/status.js"),
    ("/status", "/assets/status.js"),
];

#[test]
fn ui_pages_are_served() {
    let s = Server::start("", &[]);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let get = |path: &str| {
        let mut r = agent.get(&s.url(path)).call().unwrap();
        let header = |name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let (ct, loc) = (header("content-type"), header("location"));
        let status = r.status().as_u16();
        (status, ct, loc, r.body_mut().read_to_string().unwrap())
    };

    let (status, _, location, _) = get("/");
    assert_eq!((status, location.as_str()), (302, "/graph"));

    for (path, script) in PAGES {
        let (status, ct, _, body) = get(path);
        assert_eq!(status, 200, "{path}");
        assert_eq!(ct, "text/html; charset=utf-8", "{path}");
        assert!(body.starts_with("<!DOCTYPE html>"), "{path}");
        assert!(body.contains(&format!("src=\"{script}\"")), "{path}");
        for (other, _) in PAGES.iter().filter(|(p, _)| *p != "/query") {
            assert!(
                body.contains(&format!("href=\"{other}\"")),
                "{path}: nav lacks {other}"
            );
        }
    }

    let mut scripts: Vec<&str> = PAGES.iter().map(|(_, s)| *s).collect();
    scripts.extend(["/assets/common.js", "/assets/chart.js"]);
    for path in scripts {
        let (status, ct, _, body) = get(path);
        assert_eq!(
            (status, ct.as_str()),
            (200, "text/javascript; charset=utf-8"),
            "{path}"
        );
        assert!(body.contains("\"use strict\""), "{path}");
    }
    let (status, ct, _, body) = get("/assets/kagari.css");
    assert_eq!((status, ct.as_str()), (200, "text/css; charset=utf-8"));
    assert!(body.contains(".topnav"));
    // Assets go out gzipped when the client takes it, and unpack to the same bytes.
    let plain = get("/assets/panel.js").3;
    let mut r = agent
        .get(&s.url("/assets/panel.js"))
        .header("Accept-Encoding", "gzip, deflate")
        .call()
        .unwrap();
    let enc = r
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(enc.as_deref(), Some("gzip"));
    let raw = r.body_mut().read_to_vec().unwrap();
    assert!(
        raw.len() < plain.len() / 2,
        "{} of {}",
        raw.len(),
        plain.len()
    );
    let mut unpacked = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&raw[..]), &mut unpacked)
        .unwrap();
    assert_eq!(unpacked, plain);
    assert_eq!(get("/assets/nope.js").0, 404);
    assert_eq!(get("/graph/nope").0, 404);
}

/// `target/test-artifacts/` (beside the test binaries' `tmp/`).
fn artifacts_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(&tmp).join("test-artifacts")
}

fn shot(b: &Browser, name: &str) {
    let path = artifacts_dir().join(format!("ui-{name}.png"));
    b.screenshot(&path);
    println!("screenshot: {}", path.display());
}

/// Chromium and chromedriver; `None` (after a loud SKIP) when missing, a panic when missing
/// under `KAGARI_REQUIRE_PEERS=true`.
fn chromium_or_skip(test: &str) -> Option<(PathBuf, PathBuf)> {
    let found = webdriver::find_chromium();
    let have = kagari_testkit::available(
        found.is_some(),
        test,
        "chromium/chromedriver not installed (apt-get install chromium chromium-driver)",
    );
    found.filter(|_| have)
}

#[test]
fn ui_in_headless_chromium() {
    let Some((chromium, chromedriver)) = chromium_or_skip("ui_in_headless_chromium") else {
        return;
    };
    let s = Server::start("", &[]);
    let up = s.wait_for_vector("up");
    assert_eq!(up[0]["value"][1], "1", "{up:?}");
    // The page reads the metric names once, when it loads (as Prometheus's UI does), and the
    // completion check below needs this one: the self-scrape stores it only from the scrape
    // after the first API request on.
    s.wait_for_vector("prometheus_http_requests_total");
    let b = Browser::start(&chromium, &chromedriver);

    // Table tab: type `up`, press Enter, see the row of the self-scrape target.
    b.goto(&s.url("/graph"));
    b.type_into(".expr", "up");
    b.send_keys(&b.find(".expr"), ENTER);
    let row = b.wait_for(
        "the table row of up",
        "const r = document.querySelector('.result-table tbody tr');
         return r && r.innerText.includes('job=\"prometheus\"') ? r.innerText : null;",
        |_| {},
    );
    let row = row.as_str().unwrap_or_default();
    let target = format!("instance=\"127.0.0.1:{}\"", s.port);
    assert!(row.starts_with("up{"), "{row}");
    assert!(row.contains(&target), "{row}");
    assert!(row.trim_end().ends_with('1'), "{row}");
    shot(&b, "table");

    // The evaluation time is read in UTC, or in the browser's zone (UTC+9) in local-time mode.
    // (Waiting for the expected value, not just any row: the previous row is a scalar too.)
    let eval_at = |local: bool, expected: &str| {
        let checked = b.execute("return document.getElementById('local-time').checked", &[]);
        if checked != json!(local) {
            b.click(&b.find("#local-time"));
        }
        b.type_into(".moment", "2024-01-01 00:00:00");
        b.type_into(".expr", "time()");
        b.click(&b.find(".execute"));
        let script = format!(
            "const r = document.querySelector('.result-table tbody tr');
             return r && r.innerText.startsWith('scalar') && r.innerText.trim().endsWith('{expected}');"
        );
        b.wait_for(
            &format!("time() = {expected} (local time: {local})"),
            &script,
            |_| {},
        );
    };
    eval_at(false, "1704067200");
    eval_at(true, "1704034800");
    eval_at(false, "1704067200");
    b.type_into(".moment", "");

    // Label values are shown as text, never as markup.
    b.type_into(".expr", INJECTION);
    b.click(&b.find(".execute"));
    let row = b.wait_for(
        "the row with markup in a label value",
        "const r = document.querySelector('.result-table tbody tr');
         return r && r.innerText.includes('<b') ? r.innerText : null;",
        |_| {},
    );
    assert!(
        row.as_str()
            .unwrap_or("")
            .contains("x=\"<b id=\\\"pwn\\\">bold</b>\""),
        "{row}"
    );
    let injected = b.execute("return document.getElementById('pwn') !== null", &[]);
    assert_eq!(injected, json!(false));

    // Metric-name completion from /api/v1/label/__name__/values.
    b.type_into(".expr", "prometheus_http_req");
    let completion = b.wait_for(
        "the completion list",
        "const l = document.querySelector('.completions');
         return !l.hidden && [...l.querySelectorAll('li')].map(li => li.firstChild.textContent)
           .includes('prometheus_http_requests_total');",
        |_| {},
    );
    assert_eq!(completion, json!(true));
    b.send_keys(&b.find(".expr"), ESCAPE);
    let hidden = b.execute("return document.querySelector('.completions').hidden", &[]);
    assert_eq!(hidden, json!(true), "Escape closes the completion list");

    // Graph tab: a range query drawn as SVG paths with at least two points.
    // Label-value completion inside a selector; Tab accepts the first candidate.
    b.type_into(".expr", "up{job=\"prom");
    b.wait_for(
        "the label-value completion",
        "const l = document.querySelector('.completions');
         return !l.hidden && l.querySelector('li').firstChild.textContent === 'prometheus';",
        |_| {},
    );
    b.send_keys(&b.find(".expr"), TAB);
    let value = b.execute("return document.querySelector('.expr').value", &[]);
    assert_eq!(value, json!("up{job=\"prometheus\""));

    // Switching tabs runs the query in the new tab, as Prometheus does.
    b.type_into(".expr", "rate(prometheus_http_requests_total[1m])");
    b.click(&b.find(".tab-graph"));
    b.type_into(".range", "1m");
    b.click(&b.find(".execute"));
    let points = b.wait_for(
        "a drawn series with two points or more, /metrics in the legend",
        "const ps = [...document.querySelectorAll('.chart svg path.series')]
           .map(p => (p.getAttribute('d').match(/[ML]/g) || []).length);
         const metrics = [...document.querySelectorAll('.legend li')]
           .some(l => l.innerText.includes('handler=\"/metrics\"'));
         return metrics && ps.length && Math.max(...ps) >= 2 ? Math.max(...ps) : null;",
        |b| b.click(&b.find(".execute")),
    );
    assert!(points.as_u64().unwrap_or(0) >= 2, "{points}");
    let legend = b.execute(
        "return [...document.querySelectorAll('.legend li')].map(l => l.innerText)",
        &[],
    );
    let legend = legend.as_array().cloned().unwrap_or_default();
    assert!(
        legend
            .iter()
            .any(|l| l.as_str().unwrap_or("").contains("handler=\"/metrics\"")),
        "{legend:?}"
    );
    let axis_labels = b.execute(
        "return document.querySelectorAll('.chart svg .axis text').length",
        &[],
    );
    assert!(axis_labels.as_u64().unwrap_or(0) >= 4, "{axis_labels}");
    // Hovering the chart near its right edge (the newest points) shows each series' value
    // at the nearest step.
    let half = b.execute(
        "return Math.floor(document.querySelector('.chart svg').getBoundingClientRect().width / 2)",
        &[],
    );
    b.hover(&b.find(".chart svg"), half.as_i64().unwrap_or(0) - 20, 0);
    let tip = b.wait_for(
        "the hover tooltip",
        "const t = document.querySelector('.chart .tooltip');
         return t && !t.hidden ? t.innerText : null;",
        |_| {},
    );
    assert!(tip.as_str().unwrap_or("").contains("handler="), "{tip}");
    shot(&b, "graph");

    // Stacked: areas appear under the lines.
    b.click(&b.find(".stacked"));
    let areas = b.wait_for(
        "stacked areas",
        "return document.querySelectorAll('.chart svg path.area').length;",
        |_| {},
    );
    assert!(areas.as_u64().unwrap_or(0) >= 1, "{areas}");
    let url = b.execute("return location.search", &[]);
    assert!(url.as_str().unwrap_or("").contains("g0.stacked=1"), "{url}");

    // Format rewrites the expression as the API's format_query does.
    b.type_into(".expr", "sum(up)by(job)");
    b.click(&b.find(".format"));
    let formatted = b.wait_for(
        "the formatted expression",
        "const v = document.querySelector('.expr').value; return v.startsWith('sum by') ? v : null;",
        |_| {},
    );
    assert_eq!(formatted, json!("sum by (job) (up)"));

    // A parse error shows the API's message.
    b.type_into(".expr", "rate(");
    b.click(&b.find(".execute"));
    let err = b.wait_for(
        "the error box",
        "const e = document.querySelector('.panel .error'); return e.hidden ? null : e.innerText;",
        |_| {},
    );
    assert!(err.as_str().unwrap_or("").contains("parse error"), "{err}");

    // History kept in localStorage, newest first.
    let history = b.execute(
        "return JSON.parse(localStorage.getItem('kagari.history'))",
        &[],
    );
    assert_eq!(
        history
            .as_array()
            .map(|h| h.iter().take(5).cloned().collect::<Vec<_>>()),
        Some(vec![
            json!("rate("),
            json!("rate(prometheus_http_requests_total[1m])"),
            json!(INJECTION),
            json!("time()"),
            json!("up")
        ]),
        "{history}"
    );

    // A second panel: its own query and result; both panels come back from the URL.
    b.click(&b.find("#add-panel"));
    let second = ".panel:nth-child(2)";
    b.type_into(&format!("{second} .expr"), "vector(2)");
    b.send_keys(&b.find(&format!("{second} .expr")), ENTER);
    b.wait_for(
        "the second panel's row",
        "const r = document.querySelector('.panel:nth-child(2) .result-table tbody tr');
         return r && r.innerText.startsWith('{}') && r.innerText.trim().endsWith('2');",
        |_| {},
    );
    let url = b.execute("return location.href", &[]);
    let url = url.as_str().unwrap_or_default().to_string();
    assert!(url.contains("g1.expr=vector%282%29"), "{url}");
    b.goto(&url);
    let restored = b.wait_for(
        "both panels restored and run",
        "const ps = [...document.querySelectorAll('#panels .panel')];
         const done = ps.length === 2 && ps.every(p =>
           p.querySelector('.stats').innerText.includes('Load time') || !p.querySelector('.error').hidden);
         return done ? ps.map(p => p.querySelector('.expr').value) : null;",
        |_| {},
    );
    assert_eq!(restored, json!(["rate(", "vector(2)"]));
    b.click(&b.find(&format!("{second} .remove-panel")));
    let left = b.execute(
        "return document.querySelectorAll('#panels .panel').length",
        &[],
    );
    assert_eq!(left, json!(1));

    // Targets: the self-scrape target, UP.
    b.goto(&s.url("/targets"));
    let target_row = b.wait_for(
        "the UP target row",
        "const r = document.querySelector('tr.target[data-health=\"up\"]');
         return r ? r.innerText : null;",
        |_| {},
    );
    let target_row = target_row.as_str().unwrap_or_default();
    assert!(
        target_row.contains(&format!("http://127.0.0.1:{}/metrics", s.port)),
        "{target_row}"
    );
    assert!(target_row.contains("UP"), "{target_row}");
    let summary = b.execute(
        "return document.querySelector('.pool summary').innerText",
        &[],
    );
    assert_eq!(summary, json!("prometheus (1/1 up)"));
    shot(&b, "targets");

    // Service discovery: the discovered address beside the target labels.
    b.goto(&s.url("/service-discovery"));
    let sd = b.wait_for(
        "the service-discovery row",
        "const r = document.querySelector('tr.sd-active'); return r ? r.innerText : null;",
        |_| {},
    );
    let sd = sd.as_str().unwrap_or_default();
    assert!(
        sd.contains(&format!("__address__=\"127.0.0.1:{}\"", s.port)),
        "{sd}"
    );
    assert!(sd.contains("job=\"prometheus\""), "{sd}");

    // Rules: none configured.
    b.goto(&s.url("/rules"));
    let none = b.wait_for(
        "the empty rules page",
        "const e = document.getElementById('no-rules'); return e ? e.innerText : null;",
        |_| {},
    );
    assert_eq!(none, json!("No rules defined."));

    // The status pages render what their endpoints return.
    for (page, wanted) in [
        ("/config", "scrape_configs:"),
        ("/flags", "web.listen-address"),
        ("/tsdb-status", "Number of Series"),
        ("/tsdb-status", "prometheus_http_requests_total"),
        ("/status", "storageRetention"),
        ("/status", "goVersion"),
    ] {
        b.goto(&s.url(page));
        let script = format!(
            "const c = document.getElementById('content');
             return c && c.innerText.includes({wanted:?}) && !c.querySelector('.error');"
        );
        b.wait_for(&format!("{wanted} on {page}"), &script, |_| {});
    }
}
