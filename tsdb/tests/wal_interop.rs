//! WAL interoperability with real Prometheus 2.42.
//!
//! - A WAL segment and a checkpoint written by Prometheus 2.42 (checked in under
//!   `testdata/wal/`) decode.
//! - A live Prometheus scraping itself, killed with SIGKILL, leaves a WAL we decode.
//! - A WAL and a checkpoint we write are replayed by a live Prometheus, which then serves our
//!   samples.
//!
//! The live tests need the peers' `run` script (`kagari_testkit::run_script`) and `/usr/bin/prometheus`.
//! Without them they print a loud SKIP and return, unless `KAGARI_REQUIRE_PEERS=true`, where
//! they fail.

mod wal_common;

use std::time::Duration;

use kagari_model::Labels;
use kagari_tsdb::record::{self, RefSample, RefSeries};
use kagari_tsdb::wlog::{Compression, WalOptions, WalReader, WalWriter};
use wal_common::{check_self_scrape, decode_wal, now_ms, peers_available, Peer};

#[test]
fn prometheus_wal_after_sigkill_decodes() {
    if !peers_available("prometheus_wal_after_sigkill_decodes") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let cfg = tmp.path().join("self.yml");
    // The scrape target is Prometheus itself, on the port picked for each start attempt.
    let mut peer = kagari_testkit::Peer::start_with("prometheus", |port| {
        std::fs::write(
            &cfg,
            format!(
                "global: {{ scrape_interval: 1s }}\nscrape_configs:\n  - job_name: self\n    static_configs: [ {{ targets: ['127.0.0.1:{port}'] }} ]\n"
            ),
        )
        .expect("write config");
        Ok(vec![
            "--data".into(),
            data.clone().into(),
            "--config".into(),
            cfg.clone().into(),
        ])
    })
    .unwrap_or_else(|e| panic!("could not start prometheus: {e}"));
    std::thread::sleep(Duration::from_secs(15));
    assert!(peer.kill9(), "kill -9 of the Prometheus peer failed");

    let d = decode_wal(&data.join("wal"));
    let ups = check_self_scrape(&d);
    assert!(ups >= 5, "only {ups} scrapes in 15 s");
}

#[test]
fn prometheus_replays_our_wal() {
    if !peers_available("prometheus_replays_our_wal") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let wal = data.join("wal");
    let now = now_ms();
    let step = 15_000;
    let first_t = now - 5 * 60_000;
    let n_samples = 16;
    let value = |i: u64, k: i64| i as f64 * 100.0 + k as f64 + 0.25;

    // Three real series plus 600 padded ones, so the series record spans several pages.
    let mut series = Vec::new();
    for i in 0..3u64 {
        let labels = Labels::from_pairs([
            ("__name__", "kagari_wal_interop".to_string()),
            ("i", i.to_string()),
        ])
        .expect("labels");
        series.push(RefSeries {
            series_ref: i + 1,
            labels,
        });
    }
    let pad = "x".repeat(40);
    for j in 0..600u64 {
        let labels = Labels::from_pairs([
            ("__name__", "kagari_wal_pad".to_string()),
            ("j", format!("{j}-{pad}")),
        ])
        .expect("labels");
        series.push(RefSeries {
            series_ref: 100 + j,
            labels,
        });
    }
    let mut buf = Vec::new();
    record::encode_series(&series, &mut buf);
    assert!(buf.len() > 32 * 1024, "series record should span pages");
    let mut recs = vec![buf.clone()];
    // First half of the samples uncompressed in segment 0 ...
    for k in 0..n_samples / 2 {
        let samples: Vec<RefSample> = (0..3u64)
            .map(|i| RefSample {
                series_ref: i + 1,
                t: first_t + k * step,
                v: value(i, k),
            })
            .collect();
        buf.clear();
        record::encode_samples(&samples, &mut buf);
        recs.push(buf.clone());
    }
    let pad_samples: Vec<RefSample> = (0..600u64)
        .map(|j| RefSample {
            series_ref: 100 + j,
            t: first_t,
            v: j as f64,
        })
        .collect();
    buf.clear();
    record::encode_samples(&pad_samples, &mut buf);
    recs.push(buf.clone());
    let mut w = WalWriter::open(&wal, WalOptions::default()).expect("open writer");
    w.log(&recs).expect("log");
    w.close().expect("close");
    // ... second half snappy-compressed in segment 1.
    let opts = WalOptions {
        compression: Compression::Snappy,
        ..WalOptions::default()
    };
    let mut w = WalWriter::open(&wal, opts).expect("open writer");
    for k in n_samples / 2..n_samples {
        let samples: Vec<RefSample> = (0..3u64)
            .map(|i| RefSample {
                series_ref: i + 1,
                t: first_t + k * step,
                v: value(i, k),
            })
            .collect();
        buf.clear();
        record::encode_samples(&samples, &mut buf);
        w.log_record(&buf).expect("log");
    }
    w.close().expect("close");

    let peer = Peer::start(&data, None, &["--storage.tsdb.retention.time=100y"]);
    let last_t = first_t + (n_samples - 1) * step;
    let at = format!("{}.{:03}", last_t / 1000, last_t % 1000);

    let body = peer.get(&format!(
        "/api/v1/query?query=kagari_wal_interop%7Bi%3D%221%22%7D&time={at}"
    ));
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["status"], "success", "{body}");
    let result = v["data"]["result"].as_array().expect("result array");
    assert_eq!(result.len(), 1, "{body}");
    let got: f64 = result[0]["value"][1]
        .as_str()
        .expect("value")
        .parse()
        .expect("float");
    assert_eq!(got, value(1, n_samples - 1), "{body}");

    let body = peer.get(&format!(
        "/api/v1/query?query=count_over_time(kagari_wal_interop%7Bi%3D%222%22%7D%5B10m%5D)&time={at}"
    ));
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let got = v["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap_or("none")
        .to_string();
    assert_eq!(got, n_samples.to_string(), "{body}");

    let body = peer.get(&format!(
        "/api/v1/query?query=count(kagari_wal_pad)&time={at}"
    ));
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let got = v["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap_or("none")
        .to_string();
    assert_eq!(got, "600", "{body}");

    let log = std::fs::read_to_string(data.join("prometheus.log")).unwrap_or_default();
    assert!(
        !log.to_lowercase().contains("corrupt"),
        "Prometheus reported corruption:\n{log}"
    );
}

#[test]
fn prometheus_replays_our_checkpoint() {
    if !peers_available("prometheus_replays_our_checkpoint") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let wal = data.join("wal");
    let step = 15_000;
    let first_t = now_ms() - 10 * 60_000;
    let t = |k: i64| first_t + k * step;
    let kept = Labels::from_pairs([("__name__", "kagari_ckpt_kept")]).expect("labels");
    let gone = Labels::from_pairs([("__name__", "kagari_ckpt_gone")]).expect("labels");

    let mut w = WalWriter::open(&wal, WalOptions::default()).expect("open writer");
    let mut buf = Vec::new();
    record::encode_series(
        &[
            RefSeries {
                series_ref: 1,
                labels: kept,
            },
            RefSeries {
                series_ref: 2,
                labels: gone,
            },
        ],
        &mut buf,
    );
    w.log_record(&buf).expect("log");
    for k in 0..15 {
        if k == 5 || k == 10 {
            w.next_segment().expect("cut");
        }
        let refs: &[u64] = if k < 10 { &[1, 2] } else { &[1] };
        let samples: Vec<RefSample> = refs
            .iter()
            .map(|&r| RefSample {
                series_ref: r,
                t: t(k),
                v: k as f64,
            })
            .collect();
        buf.clear();
        record::encode_samples(&samples, &mut buf);
        w.log_record(&buf).expect("log");
    }
    w.close().expect("close");
    assert_eq!(
        kagari_tsdb::wlog::segments(&wal).expect("segments"),
        vec![0, 1, 2]
    );

    // Fold segments 0 and 1 into checkpoint.00000001: series 2 is dead, samples before k = 3
    // are too old.
    let st = kagari_tsdb::wlog::checkpoint_with(&wal, 0, 1, |r| r == 1, t(3), Compression::Snappy)
        .expect("checkpoint");
    assert_eq!((st.total_series, st.dropped_series), (2, 1));
    kagari_tsdb::wlog::delete_segments_before(&wal, 2).expect("delete segments");
    assert_eq!(
        kagari_tsdb::wlog::segments(&wal).expect("segments"),
        vec![2]
    );

    let peer = Peer::start(&data, None, &["--storage.tsdb.retention.time=100y"]);
    let last = t(14);
    let at = format!("{}.{:03}", last / 1000, last % 1000);
    let body = peer.get(&format!(
        "/api/v1/query?query=count_over_time(kagari_ckpt_kept%5B10m%5D)&time={at}"
    ));
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let got = v["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap_or("none")
        .to_string();
    assert_eq!(got, "12", "samples 3..=14 expected: {body}");
    let body = peer.get(&format!("/api/v1/query?query=kagari_ckpt_kept&time={at}"));
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["data"]["result"][0]["value"][1], "14", "{body}");
    let body = peer.get(&format!(
        "/api/v1/query?query=count_over_time(kagari_ckpt_gone%5B10m%5D)&time={at}"
    ));
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        v["data"]["result"].as_array().map(Vec::len),
        Some(0),
        "{body}"
    );
    let log = std::fs::read_to_string(data.join("prometheus.log")).unwrap_or_default();
    assert!(
        !log.to_lowercase().contains("corrupt"),
        "Prometheus reported corruption:\n{log}"
    );
}

#[test]
fn prometheus_accepts_a_wal_we_repaired() {
    if !peers_available("prometheus_accepts_a_wal_we_repaired") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let wal = data.join("wal");
    let t0 = now_ms() - 3 * 60_000;
    let labels = Labels::from_pairs([("__name__", "kagari_wal_repaired")]).expect("labels");
    let mut w = WalWriter::open(&wal, WalOptions::default()).expect("open writer");
    let mut buf = Vec::new();
    record::encode_series(
        &[RefSeries {
            series_ref: 1,
            labels,
        }],
        &mut buf,
    );
    w.log_record(&buf).expect("log");
    for k in 0..5 {
        buf.clear();
        record::encode_samples(
            &[RefSample {
                series_ref: 1,
                t: t0 + k * 10_000,
                v: k as f64,
            }],
            &mut buf,
        );
        w.log_record(&buf).expect("log");
    }
    let good_len = w.segment_offset();
    // A record spanning pages, then torn by a "crash" in its second fragment.
    w.log_record(&vec![2u8; 40_000]).expect("log");
    drop(w);
    let seg = kagari_tsdb::wlog::segment_path(&wal, 0);
    let bytes = std::fs::read(&seg).expect("read");
    std::fs::write(&seg, &bytes[..32 * 1024 + 100]).expect("tear");

    let mut r = WalReader::open_replay(&wal).expect("reader");
    let err = loop {
        match r.next_record() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("torn record not detected"),
            Err(e) => break e,
        }
    };
    let (s, off) = err.wal_corruption_position().expect("corruption position");
    assert_eq!((s, off), (0, good_len));
    kagari_tsdb::wlog::repair(&wal, s, off).expect("repair");

    let peer = Peer::start(&data, None, &["--storage.tsdb.retention.time=100y"]);
    let last = t0 + 40_000;
    let at = format!("{}.{:03}", last / 1000, last % 1000);
    let body = peer.get(&format!(
        "/api/v1/query?query=count_over_time(kagari_wal_repaired%5B5m%5D)&time={at}"
    ));
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["data"]["result"][0]["value"][1], "5", "{body}");
    let log = std::fs::read_to_string(data.join("prometheus.log")).unwrap_or_default();
    assert!(
        !log.to_lowercase().contains("corrupt"),
        "Prometheus reported corruption:\n{log}"
    );
}

#[test]
fn prometheus_replays_our_native_histogram_records() {
    use kagari_tsdb::record::{
        FloatHistogram, Histogram, RefFloatHistogramSample, RefHistogramSample, Span,
    };
    if !peers_available("prometheus_replays_our_native_histogram_records") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let wal = data.join("wal");
    let t0 = now_ms() - 4 * 60_000;
    let n = 6i64;
    let series = [
        RefSeries {
            series_ref: 1,
            labels: Labels::from_pairs([("__name__", "kagari_hist")]).expect("labels"),
        },
        RefSeries {
            series_ref: 2,
            labels: Labels::from_pairs([("__name__", "kagari_fhist")]).expect("labels"),
        },
    ];
    let mut recs = Vec::new();
    let mut buf = Vec::new();
    record::encode_series(&series, &mut buf);
    recs.push(buf.clone());
    for k in 0..n {
        let kk = k as u64;
        // Buckets (absolute) 2+k, 3+k, 1+k plus 1 in the zero bucket: count 7 + 3k.
        let h = Histogram {
            counter_reset_hint: 0,
            schema: 0,
            zero_threshold: 0.001,
            zero_count: 1,
            count: 7 + 3 * kk,
            sum: 12.5 + k as f64,
            positive_spans: vec![Span {
                offset: 0,
                length: 3,
            }],
            negative_spans: vec![],
            positive_buckets: vec![2 + k, 1, -2],
            negative_buckets: vec![],
        };
        buf.clear();
        record::encode_histogram_samples(
            &[RefHistogramSample {
                series_ref: 1,
                t: t0 + k * 15_000,
                h,
            }],
            &mut buf,
        );
        recs.push(buf.clone());
        let fh = FloatHistogram {
            counter_reset_hint: 3,
            schema: 1,
            zero_threshold: 0.001,
            zero_count: 0.5,
            count: 7.5,
            sum: -3.25 - k as f64,
            positive_spans: vec![Span {
                offset: 1,
                length: 2,
            }],
            negative_spans: vec![],
            positive_buckets: vec![2.5, 4.5],
            negative_buckets: vec![],
        };
        buf.clear();
        record::encode_float_histogram_samples(
            &[RefFloatHistogramSample {
                series_ref: 2,
                t: t0 + k * 15_000,
                fh,
            }],
            &mut buf,
        );
        recs.push(buf.clone());
    }
    let mut w = WalWriter::open(&wal, WalOptions::default()).expect("open writer");
    w.log(&recs).expect("log");
    w.close().expect("close");

    let peer = Peer::start(
        &data,
        None,
        &[
            "--storage.tsdb.retention.time=100y",
            "--enable-feature=native-histograms",
        ],
    );
    let last = t0 + (n - 1) * 15_000;
    let at = format!("{}.{:03}", last / 1000, last % 1000);
    let query = |q: &str| {
        let body = peer.get(&format!("/api/v1/query?query={q}&time={at}"));
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        let got = v["data"]["result"][0]["value"][1]
            .as_str()
            .map(str::to_string);
        (got, body)
    };
    let (got, body) = query("histogram_count(kagari_hist)");
    assert_eq!(
        got.as_deref(),
        Some((7 + 3 * (n - 1)).to_string().as_str()),
        "{body}"
    );
    let (got, body) = query("histogram_sum(kagari_hist)");
    assert_eq!(got.as_deref(), Some("17.5"), "{body}");
    let (got, body) = query("count_over_time(kagari_hist%5B10m%5D)");
    assert_eq!(got.as_deref(), Some(n.to_string().as_str()), "{body}");
    let (got, body) = query("histogram_count(kagari_fhist)");
    assert_eq!(got.as_deref(), Some("7.5"), "{body}");
    let (got, body) = query("histogram_sum(kagari_fhist)");
    assert_eq!(got.as_deref(), Some("-8.25"), "{body}");
    let log = std::fs::read_to_string(data.join("prometheus.log")).unwrap_or_default();
    assert!(
        !log.to_lowercase().contains("corrupt"),
        "Prometheus reported corruption:\n{log}"
    );
}
