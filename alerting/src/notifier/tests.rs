use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kagari_model::Labels;

use super::*;

/// A loopback HTTP server recording `(path, body)` of every request; answers `status`.
struct Sink {
    port: u16,
    got: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
    status: Arc<AtomicU16>,
}

fn sink() -> Sink {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let got: Arc<Mutex<Vec<(String, serde_json::Value)>>> = Arc::default();
    let status = Arc::new(AtomicU16::new(200));
    let (g, s) = (got.clone(), status.clone());
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { return };
            let mut r = BufReader::new(c.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let path = line.split(' ').nth(1).unwrap_or("").to_string();
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                r.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            g.lock()
                .unwrap()
                .push((path, serde_json::from_slice(&body).unwrap()));
            let code = s.load(Ordering::Relaxed);
            let _ = write!(
                c,
                "HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    Sink { port, got, status }
}

fn alert(name: &str, i: usize) -> NotifierAlert {
    NotifierAlert {
        labels: Labels::from_pairs([("alertname", name), ("i", &i.to_string())]).unwrap(),
        annotations: Default::default(),
        starts_at: Some(1_000),
        ends_at: Some(2_000),
        generator_url: String::new(),
    }
}

fn config(yaml: &str) -> NotifierConfig {
    let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
    NotifierConfig::from_yaml(Some(&v)).unwrap()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn queue_drops_the_oldest_beyond_capacity() {
    let am = Alertmanager {
        url: String::new(),
        timeout: Duration::from_secs(1),
        queue: Mutex::default(),
        cv: Condvar::new(),
        stats: AmStats::default(),
    };
    assert_eq!(am.push((0..3).map(|i| alert("A", i)).collect(), 4), 0);
    assert_eq!(am.push((3..6).map(|i| alert("A", i)).collect(), 4), 2);
    // A batch larger than the capacity keeps only its newest part.
    assert_eq!(am.push((6..12).map(|i| alert("A", i)).collect(), 4), 6);
    let kept: Vec<String> = am
        .queue()
        .alerts
        .iter()
        .map(|a| a.labels.get("i").unwrap().to_string())
        .collect();
    assert_eq!(kept, ["8", "9", "10", "11"]);
}

#[test]
fn batches_external_labels_relabeling_and_several_alertmanagers() {
    let (a, b) = (sink(), sink());
    let cfg = config(&format!(
        "alert_relabel_configs:\n\
         - {{source_labels: [i], regex: '7', action: drop}}\n\
         alertmanagers:\n\
         - static_configs: [{{targets: ['127.0.0.1:{}']}}]\n\
         - path_prefix: /pre\n\
         \x20 static_configs: [{{targets: ['127.0.0.1:{}']}}]\n\
         \x20 alert_relabel_configs: [{{target_label: team, replacement: b}}]\n",
        a.port, b.port
    ));
    let opts = NotifierOptions {
        external_labels: Labels::from_pairs([("region", "eu"), ("i", "ext")]).unwrap(),
        ..NotifierOptions::default()
    };
    let n = Notifier::new(&cfg, opts);
    assert_eq!(n.alertmanagers().0.len(), 2);
    n.send((0..150).map(|i| alert("A", i)).collect());
    let total = |s: &Sink| -> usize {
        s.got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, v)| v.as_array().unwrap().len())
            .sum()
    };
    wait_for("149 alerts at both", || {
        total(&a) == 149 && total(&b) == 149
    });
    let got_a = a.got.lock().unwrap().clone();
    let sizes: Vec<usize> = got_a
        .iter()
        .map(|(_, v)| v.as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [64, 64, 21]);
    assert_eq!(got_a[0].0, "/api/v2/alerts");
    let first = &got_a[0].1[0];
    assert_eq!(first["labels"]["region"], "eu");
    assert_eq!(
        first["labels"]["i"], "0",
        "alert labels win over external ones"
    );
    assert!(first["labels"].get("team").is_none());
    let got_b = b.got.lock().unwrap().clone();
    assert_eq!(got_b[0].0, "/pre/api/v2/alerts");
    assert_eq!(got_b[0].1[0]["labels"]["team"], "b");
    wait_for("sent counters", || {
        n.alertmanager_handles()
            .iter()
            .all(|h| h.stats().sent.load(Ordering::Relaxed) == 149)
    });
    assert_eq!(n.dropped(), 0);
    n.stop();
}

#[test]
fn failed_posts_are_dropped_and_counted() {
    let a = sink();
    a.status.store(500, Ordering::Relaxed);
    let cfg = config(&format!(
        "alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{}']}}]}}]\n",
        a.port
    ));
    let n = Notifier::new(&cfg, NotifierOptions::default());
    n.send(vec![alert("A", 1), alert("A", 2)]);
    wait_for("the error count", || n.dropped() == 2);
    let h = &n.alertmanager_handles()[0];
    assert_eq!(h.stats().errors.load(Ordering::Relaxed), 2);
    assert_eq!(h.stats().sent.load(Ordering::Relaxed), 0);
    // Without Alertmanagers, alerts are dropped and counted too.
    let none = Notifier::new(&NotifierConfig::default(), NotifierOptions::default());
    none.send(vec![alert("A", 1)]);
    assert_eq!(none.dropped(), 1);
    n.stop();
}

#[test]
fn stop_drains_the_queue() {
    let a = sink();
    let cfg = config(&format!(
        "alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{}']}}]}}]\n",
        a.port
    ));
    let n = Notifier::new(&cfg, NotifierOptions::default());
    n.send((0..10).map(|i| alert("A", i)).collect());
    n.stop();
    let total: usize = a
        .got
        .lock()
        .unwrap()
        .iter()
        .map(|(_, v)| v.as_array().unwrap().len())
        .sum();
    assert_eq!(total, 10);
}
