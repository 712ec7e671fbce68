//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `testdata/exposition` at the repository root.
pub(crate) fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/exposition")
}

/// Sorted files (or case folders) in `testdata/exposition/<sub>`; never empty.
pub(crate) fn list(sub: &str) -> Vec<PathBuf> {
    let dir = testdata().join(sub);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.file_name().is_none_or(|n| n != "SOURCES.tsv"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no files under {}", dir.display());
    v
}

/// The file name of `p`.
pub(crate) fn name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
