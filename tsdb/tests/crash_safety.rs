//! Crash safety: a child process appends and commits batches through a [`Db`] (with block
//! cutting and WAL checkpoints along the way) and prints each committed batch id; the parent
//! SIGKILLs it at random moments. After every kill the database must open, and every batch
//! the child reported as committed must be fully present.
//!
//! The child is this same test binary re-executed with `KAGARI_CRASH_CHILD` set.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kagari_model::Labels;
use kagari_tsdb::db::{Db, Options};
use kagari_tsdb::wlog::PAGE_SIZE;

const CHILD_ENV: &str = "KAGARI_CRASH_CHILD";
const SERIES: usize = 20;
const ROUNDS: usize = 20;
/// Each batch id `b` writes timestamp `b * STEP` with value `b` to every series.
const STEP: i64 = 1_000;

fn opts() -> Options {
    Options {
        // One-minute blocks: a block is cut about every 90 batches.
        block_range: 60_000,
        wal_segment_size: 2 * PAGE_SIZE,
        ..Options::default()
    }
}

fn labels(i: usize) -> Labels {
    Labels::from_pairs([("__name__", "crash"), ("series", &i.to_string())]).unwrap()
}

/// The child: append batches forever, printing each committed id.
fn child(dir: &Path) -> ! {
    let db = Db::open(dir, opts()).expect("child: open");
    let head_max = db.head().max_time();
    let block_max = db
        .blocks()
        .iter()
        .map(|b| b.meta().max_time - 1)
        .max()
        .unwrap_or(i64::MIN);
    let mut next = head_max.max(block_max).max(0) / STEP + 1;
    let labels: Vec<Labels> = (0..SERIES).map(labels).collect();
    let mut refs = vec![None; SERIES];
    let stdout = std::io::stdout();
    loop {
        let mut app = db.appender();
        for (l, r) in labels.iter().zip(refs.iter_mut()) {
            *r = Some(app.append(*r, l, next * STEP, next as f64).expect("append"));
        }
        app.commit().expect("commit");
        {
            let mut out = stdout.lock();
            writeln!(out, "{next}").expect("stdout");
            out.flush().expect("flush");
        }
        if next % 50 == 0 {
            db.compact().expect("compact");
        }
        next += 1;
    }
}

/// xorshift64*, seeded from the clock: kill moments differ between runs.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn sigkill_never_loses_acknowledged_batches() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = Rng(seed | 1);
    let mut acknowledged: Vec<i64> = Vec::new();

    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "sigkill_never_loses_acknowledged_batches",
                "--nocapture",
            ])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            loop {
                line.clear();
                match r.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    // Only complete lines are acknowledgements.
                    Ok(_) if line.ends_with('\n') => {
                        if let Ok(id) = line.trim().parse::<i64>() {
                            let _ = tx.send(id);
                        }
                    }
                    Ok(_) => break,
                }
            }
        });
        // Wait for at least one acknowledgement so the child is past opening, then a random
        // extra delay before the kill.
        if let Ok(id) = rx.recv_timeout(Duration::from_secs(20)) {
            acknowledged.push(id);
        }
        std::thread::sleep(Duration::from_millis(rng.next() % 400));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        acknowledged.extend(rx.try_iter());

        let db = Db::open(dir.path(), opts())
            .unwrap_or_else(|e| panic!("round {round}: reopening failed: {e}"));
        let q = db.querier(i64::MIN, i64::MAX);
        let series = q.select(&[]).unwrap();
        assert_eq!(series.len(), SERIES, "round {round}");
        for s in &series {
            let samples: HashMap<i64, f64> = s.samples().unwrap().into_iter().collect();
            for &id in &acknowledged {
                assert_eq!(
                    samples.get(&(id * STEP)),
                    Some(&(id as f64)),
                    "round {round}: acknowledged batch {id} missing in {}",
                    s.labels()
                );
            }
        }
        drop(series);
        drop(q);
        drop(db);
    }
    assert!(
        acknowledged.len() > ROUNDS,
        "children acknowledged only {} batches",
        acknowledged.len()
    );
    let blocks = kagari_tsdb::block::open_blocks(dir.path()).unwrap();
    println!(
        "crash safety: {} acknowledged batches over {ROUNDS} kills, {} blocks cut",
        acknowledged.len(),
        blocks.len()
    );
}
