//! Shared helpers for Kagari's criterion benchmarks (the benchmarks live in `benches/`).
//!
//! Benchmarks compare Kagari with peer crates in one run; see `benches/README.md` for the
//! commands and the latest figures.
//!
//! ```
//! let dir = kagari_benches::testdata_dir();
//! assert!(dir.join("exposition").is_dir());
//! ```

use std::path::PathBuf;

/// The repository's `testdata/` folder.
pub fn testdata_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

/// Reads a file below `testdata/`; benchmarks cannot run without their data, so a missing
/// file aborts the benchmark with the path in the message.
pub fn read_testdata(rel: &str) -> Vec<u8> {
    let p = testdata_dir().join(rel);
    match std::fs::read(&p) {
        Ok(b) => b,
        Err(e) => panic!("cannot read {}: {e}", p.display()),
    }
}
