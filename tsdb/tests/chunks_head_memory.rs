//! Heap saved by memory-mapping cut head chunks: the same 2 h of 15 s samples (480 per series:
//! three closed 120-sample chunks and one open one) appended to a head without and with a
//! [`ChunkDiskMapper`], heap measured with a counting global allocator. The figures are
//! printed; the assertion is that at least 90 % of the mapped chunk bytes left the heap.
//!
//! This binary holds a single test so no other test allocates while it measures.

use std::sync::Arc;

use kagari_model::Labels;
use kagari_tsdb::chunks_head::ChunkDiskMapper;
use kagari_tsdb::head::{Head, HeadOptions};

#[global_allocator]
static GLOBAL: kagari_testkit::CountingAlloc = kagari_testkit::CountingAlloc::new();

const N: usize = 4_000;
const SAMPLES: i64 = 480;

fn live() -> isize {
    GLOBAL.live()
}

/// Heap held by a head filled with the workload (labels excluded), and its chunk bytes
/// `(heap, mapped)`.
fn fill(all: &[Labels], mapper: Option<Arc<ChunkDiskMapper>>) -> (isize, (u64, u64), Head) {
    let started = std::time::Instant::now();
    let before = live();
    let head = Head::new(HeadOptions::default());
    if let Some(m) = mapper {
        assert!(head.set_chunk_mapper(m));
    }
    let mut refs = vec![None; all.len()];
    for k in 0..SAMPLES {
        let mut app = head.appender();
        for (i, (l, r)) in all.iter().zip(refs.iter_mut()).enumerate() {
            let v = ((k * 7 + i as i64) % 1000) as f64 / 8.0;
            *r = Some(app.append(*r, l, k * 15_000, v).unwrap());
        }
        app.commit().unwrap();
    }
    let bytes = live() - before - (refs.capacity() * 16) as isize;
    println!(
        "append {} samples (no WAL, one commit per {} samples, mapper: {}, this build profile): {:.2} M samples/s",
        all.len() as i64 * SAMPLES,
        all.len(),
        head.chunk_mapper().is_some(),
        (all.len() as i64 * SAMPLES) as f64 / started.elapsed().as_secs_f64() / 1e6
    );
    (bytes, head.chunk_bytes(), head)
}

#[test]
fn mapping_cut_chunks_moves_them_off_the_heap() {
    let all: Vec<Labels> = (0..N)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", "http_requests_total"),
                ("instance", &format!("10.0.{}.{}:9100", i / 256, i % 256)),
                ("job", "node"),
            ])
            .unwrap()
        })
        .collect();
    let (plain, (plain_heap_chunks, _), head) = fill(&all, None);
    drop(head);

    let dir = tempfile::tempdir().unwrap();
    let (mapper, _) = ChunkDiskMapper::open(dir.path().join("chunks_head")).unwrap();
    let mapper = Arc::new(mapper);
    let (mapped, (heap_chunks, mapped_chunks), head) = fill(&all, Some(mapper.clone()));
    assert_eq!(mapper.stats().chunks_written(), 3 * N as u64);
    assert_eq!(plain_heap_chunks, heap_chunks + mapped_chunks);

    let per = |b: isize| b as f64 / N as f64;
    let saved = plain - mapped;
    println!(
        "head heap for {N} series x {SAMPLES} samples (labels excluded): {:.0} B/series on the heap, {:.0} B/series with chunks_head ({:.0} B/series of chunk data mapped; saved {:.0} B/series, {:.0} %)",
        per(plain),
        per(mapped),
        mapped_chunks as f64 / N as f64,
        per(saved),
        100.0 * saved as f64 / plain as f64
    );
    assert!(
        saved as f64 >= 0.9 * mapped_chunks as f64,
        "saved {saved} B, mapped {mapped_chunks} B"
    );
    drop(head);
}
