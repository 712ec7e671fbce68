//! Memory per head series, measured with a counting global allocator: 100k series with four
//! labels and 1 sample each, then the growth of 10k of them to a full 120-sample chunk. The figures are printed; the assertions are generous
//! upper bounds that catch a regression of an order of magnitude.
//!
//! This binary holds a single test so no other test allocates while it measures.

use kagari_model::Labels;
use kagari_tsdb::head::{Head, HeadOptions};

#[global_allocator]
static GLOBAL: kagari_testkit::CountingAlloc = kagari_testkit::CountingAlloc::new();

const N: usize = 100_000;
/// Series that get a full 120-sample chunk (a subset, to keep debug-build runs short).
const FULL: usize = 10_000;

fn labels(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", "http_requests_total"),
        (
            "instance",
            &format!("10.0.{}.{}:9100", i / 256 % 256, i % 256),
        ),
        ("job", "node"),
        ("path", &format!("/api/v1/item/{}", i / 1000)),
    ])
    .unwrap()
}

fn live() -> isize {
    GLOBAL.live()
}

#[test]
fn bytes_per_series_for_100k_series() {
    let all: Vec<Labels> = (0..N).map(labels).collect();
    let label_bytes = {
        let before = live();
        let again: Vec<Labels> = (0..N).map(labels).collect();
        let b = live() - before - (N * std::mem::size_of::<Labels>()) as isize;
        drop(again);
        b
    };

    let before = live();
    let head = Head::new(HeadOptions::default());
    let mut refs = Vec::with_capacity(N);
    let mut app = head.appender();
    for l in &all {
        refs.push(app.append(None, l, 0, 1.0).unwrap());
    }
    app.commit().unwrap();
    let refs_bytes = (refs.capacity() * 8) as isize;
    let one_sample = live() - before - refs_bytes;

    // 119 more samples for the first FULL series, 15 s apart: one full chunk each.
    let started = std::time::Instant::now();
    let mid = live();
    for k in 1..120i64 {
        let mut app = head.appender();
        for (l, r) in all.iter().zip(&refs).take(FULL) {
            app.append(Some(*r), l, k * 15_000, (k % 7) as f64).unwrap();
        }
        app.commit().unwrap();
    }
    let elapsed = started.elapsed();
    let chunk_growth = (live() - mid) as f64 / FULL as f64;
    assert_eq!(head.num_series(), N);
    assert_eq!(head.stats().samples_appended(), (N + FULL * 119) as u64);

    let per = |b: isize| b as f64 / N as f64;
    println!(
        "head memory for {N} series (labels shared with the caller, not counted): {:.0} B/series with 1 sample, {:.0} B/series with 120 samples; the label sets themselves take {:.0} B/series",
        per(one_sample),
        per(one_sample) + chunk_growth,
        per(label_bytes)
    );
    println!(
        "append throughput (no WAL, one commit per 10k samples, this build profile): {:.2} M samples/s",
        (FULL * 119) as f64 / elapsed.as_secs_f64() / 1e6
    );
    assert!(per(one_sample) < 1_000.0, "{} B/series", per(one_sample));
    assert!(chunk_growth < 1_000.0, "{chunk_growth} B/series");
}
