//! Hot paths do not allocate: updates, family look-ups of existing series, and encoding
//! (whose allocations do not grow with the number of samples).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use kagari_client::{
    Counter, Format, Gauge, Histogram, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
    Summary, SummaryOpts,
};

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

/// Counts allocations made by the current thread.
struct Counting;

// SAFETY: forwards to the system allocator unchanged; only bumps a thread-local counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|a| a.set(a.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|a| a.set(a.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs_during(f: impl FnOnce()) -> usize {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

#[test]
fn updates_and_lookups_do_not_allocate() {
    let c = Counter::new();
    let ic = IntCounter::new();
    let g = Gauge::new();
    let h = Histogram::new();
    let big =
        Histogram::with_buckets(kagari_client::linear_buckets(0.0, 1.0, 100).unwrap()).unwrap();
    let fam = IntCounterVec::new(&["method", "code"]).unwrap();
    let hfam = HistogramVec::new(&["op"]).unwrap();
    fam.with_label_values(&["GET", "200"]).unwrap();
    hfam.with_label_values(&["read"]).unwrap();
    let n = allocs_during(|| {
        for i in 0..10_000 {
            c.inc_by(0.5);
            ic.inc();
            g.set(f64::from(i));
            let _busy = g.track_inprogress();
            h.observe(f64::from(i) / 1000.0);
            big.observe(f64::from(i % 150));
            fam.with_label_values(&["GET", "200"]).unwrap().inc();
            hfam.with_label_values(&["read"]).unwrap().observe(0.1);
            drop(h.start_timer());
        }
        let _ = h.snapshot().count; // snapshot() itself builds a Vec; excluded below
    });
    // `snapshot()` allocates exactly its result vector.
    assert_eq!(n, 1, "hot paths allocated {n} times");
    assert_eq!(ic.get(), 10_000);
    assert_eq!(
        fam.with_label_values(&["GET", "200"]).unwrap().get(),
        10_000
    );
}

#[test]
fn summary_observe_allocates_only_amortised() {
    let s = Summary::with_opts(
        SummaryOpts::new()
            .objective(0.5, 0.05)
            .objective(0.99, 0.001),
    )
    .unwrap();
    for i in 0..10_000 {
        s.observe(f64::from(i));
    }
    let n = allocs_during(|| {
        for i in 0..100_000 {
            s.observe(f64::from(i % 1000));
        }
    });
    assert!(n < 100_000 / 500, "{n} allocations for 100k observations");
}

fn registry_with_series(n: usize) -> Registry {
    let r = Registry::new();
    let f: IntCounterVec = r
        .create_family(Opts::new("req", "Requests."), &["id"])
        .unwrap();
    let h = HistogramVec::new(&["id"]).unwrap();
    r.register(Opts::new("lat", "Latency."), h.clone()).unwrap();
    for i in 0..n {
        f.with_label_values(&[i.to_string()]).unwrap().inc();
        h.with_label_values(&[i.to_string()]).unwrap().observe(0.2);
    }
    r
}

#[test]
fn encoding_allocations_do_not_grow_with_samples() {
    for format in [Format::Text, Format::OpenMetrics] {
        let mut counts = Vec::new();
        for n in [10, 1000] {
            let r = registry_with_series(n);
            let mut buf = Vec::with_capacity(8 << 20);
            r.encode(&mut buf, format).unwrap(); // warm up
            buf.clear();
            counts.push(allocs_during(|| r.encode(&mut buf, format).unwrap()));
        }
        assert_eq!(
            counts[0], counts[1],
            "{format:?}: allocations for 10 vs 1000 series"
        );
        assert!(
            counts[0] <= 8,
            "{format:?}: {} allocations per encode",
            counts[0]
        );
    }
}
