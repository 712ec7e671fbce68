//! N threads × M updates must add up to exactly N×M, also while scrapes run concurrently.

use std::sync::Barrier;
use std::thread;

use kagari_client::{
    Counter, Format, Gauge, Histogram, IntCounter, IntCounterVec, IntGauge, Opts, Registry, Summary,
};

const THREADS: usize = 8;
const PER_THREAD: usize = 20_000;
const TOTAL: u64 = (THREADS * PER_THREAD) as u64;

fn run(f: impl Fn(usize) + Sync) {
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (f, barrier) = (&f, &barrier);
            s.spawn(move || {
                barrier.wait();
                f(t);
            });
        }
    });
}

#[test]
fn int_and_float_counters_add_up() {
    let ic = IntCounter::new();
    let fc = Counter::new();
    run(|_| {
        for _ in 0..PER_THREAD {
            ic.inc();
            fc.inc_by(0.5);
        }
    });
    assert_eq!(ic.get(), TOTAL);
    assert_eq!(fc.get(), TOTAL as f64 / 2.0);
}

#[test]
fn gauges_add_up() {
    let g = Gauge::new();
    let ig = IntGauge::new();
    run(|t| {
        for _ in 0..PER_THREAD {
            g.inc();
            if t % 2 == 0 {
                ig.inc();
            } else {
                ig.dec();
            }
            ig.add(2);
        }
    });
    assert_eq!(g.get(), TOTAL as f64);
    assert_eq!(ig.get(), 2 * TOTAL as i64);
}

#[test]
fn histogram_count_is_exact_and_snapshots_consistent_during_observes() {
    let h = Histogram::with_buckets(vec![1.0, 10.0, 100.0]).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    thread::scope(|s| {
        // A scraper checking that every snapshot is internally consistent.
        let scraper = s.spawn(|| {
            let mut snapshots = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let snap = h.snapshot();
                let inf = snap.buckets.last().map(|b| b.1);
                assert_eq!(inf, Some(snap.count), "+Inf bucket must equal count");
                assert!(snap.buckets.windows(2).all(|w| w[0].1 <= w[1].1));
                snapshots += 1;
            }
            snapshots
        });
        run(|t| {
            for i in 0..PER_THREAD {
                h.observe(((t * PER_THREAD + i) % 200) as f64);
            }
        });
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(scraper.join().unwrap() > 0);
    });
    let snap = h.snapshot();
    assert_eq!(snap.count, TOTAL);
    // Values 0..200 cycle evenly: 2 of every 200 are <= 1, 11 are <= 10, 101 are <= 100.
    let cycles = TOTAL / 200;
    assert_eq!(snap.buckets[0].1, 2 * cycles);
    assert_eq!(snap.buckets[1].1, 11 * cycles);
    assert_eq!(snap.buckets[2].1, 101 * cycles);
    let expected_sum = (0..200).sum::<u64>() as f64 * cycles as f64;
    assert_eq!(snap.sum, expected_sum);
}

#[test]
fn histogram_snapshots_include_the_sum_of_every_counted_observation() {
    // Every observation is 1: a snapshot's sum must equal its count exactly, which holds only
    // if a scrape sees the sum of every observation its bucket totals count.
    let h = Histogram::with_buckets(vec![0.5, 2.0]).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    thread::scope(|s| {
        let scraper = s.spawn(|| {
            let mut snapshots = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let snap = h.snapshot();
                assert_eq!(snap.sum, snap.count as f64);
                assert_eq!(snap.buckets[0].1, 0);
                assert_eq!(snap.buckets[1].1, snap.count);
                snapshots += 1;
            }
            snapshots
        });
        run(|_| {
            for _ in 0..PER_THREAD {
                h.observe(1.0);
            }
        });
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(scraper.join().unwrap() > 0);
    });
    assert_eq!((h.count(), h.sum()), (TOTAL, TOTAL as f64));
}

#[test]
fn summary_count_and_sum_add_up() {
    let s = Summary::new();
    run(|_| {
        for _ in 0..PER_THREAD {
            s.observe(1.0);
        }
    });
    assert_eq!(s.count(), TOTAL);
    assert_eq!(s.sum(), TOTAL as f64);
}

#[test]
fn summary_quantiles_hold_under_concurrent_observers() {
    let s = Summary::with_opts(
        kagari_client::SummaryOpts::new()
            .objective(0.5, 0.05)
            .objective(0.9, 0.01),
    )
    .unwrap();
    // Every thread observes 0..PER_THREAD once, in its own order; a reader scrapes meanwhile.
    thread::scope(|sc| {
        let reader = sc.spawn(|| {
            for _ in 0..20 {
                for (_, v) in s.quantiles() {
                    assert!(v.is_nan() || (0.0..PER_THREAD as f64).contains(&v));
                }
            }
        });
        run(|t| {
            for i in 0..PER_THREAD {
                let v = (i * 7919 + t * 13) % PER_THREAD; // a permutation per thread
                s.observe(v as f64);
            }
        });
        reader.join().unwrap();
    });
    assert_eq!(s.count(), TOTAL);
    let n = PER_THREAD as f64;
    for (q, v) in s.quantiles() {
        let eps = if q == 0.5 { 0.05 } else { 0.01 };
        assert!((v / n - q).abs() <= eps + 1.0 / n, "q={q}: {v}");
    }
}

#[test]
fn family_series_created_concurrently_add_up() {
    let f = IntCounterVec::new(&["shard", "kind"]).unwrap();
    run(|t| {
        for i in 0..PER_THREAD {
            let shard = (i % 10).to_string();
            let kind = if t % 2 == 0 { "even" } else { "odd" };
            f.with_label_values(&[shard.as_str(), kind]).unwrap().inc();
        }
    });
    assert_eq!(f.len(), 20);
    let mut total = 0;
    for shard in 0..10 {
        for kind in ["even", "odd"] {
            let c = f
                .with_label_values(&[shard.to_string().as_str(), kind])
                .unwrap();
            assert_eq!(c.get(), TOTAL / 20);
            total += c.get();
        }
    }
    assert_eq!(total, TOTAL);
}

#[test]
fn encoding_while_updating_is_safe() {
    let r = Registry::new();
    let f = r
        .create_family::<IntCounter>(Opts::new("events", "Events."), &["n"])
        .unwrap();
    let h: Histogram = r.create(Opts::new("lat", "Latency.")).unwrap();
    thread::scope(|s| {
        let enc = s.spawn(|| {
            for _ in 0..50 {
                let text = r.encode_to_string(Format::OpenMetrics).unwrap();
                assert!(text.ends_with("# EOF\n"));
            }
        });
        run(|t| {
            for i in 0..PER_THREAD / 10 {
                f.with_label_values(&[(i % 50).to_string()]).unwrap().inc();
                h.observe(t as f64);
            }
        });
        enc.join().unwrap();
    });
    assert_eq!(h.count(), TOTAL / 10);
    assert_eq!(f.len(), 50);
}
