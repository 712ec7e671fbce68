//! Shared helpers for the integration tests.
#![allow(dead_code, unused_imports)] // each test binary uses a different subset

use std::path::PathBuf;

/// `testdata/exposition` at the repository root.
pub(crate) fn testdata() -> PathBuf {
    kagari_testkit::workspace_root().join("testdata/exposition")
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

/// Outcome of running the external `validate` oracle.
#[derive(Debug)]
pub(crate) enum Oracle {
    /// The checker accepted the input.
    Pass,
    /// The checker rejected the input; stderr/stdout attached.
    Fail(String),
    /// The checker is not available (and peers are not required).
    Unavailable(String),
}

/// `validate` in `$EXPOSITION_CONFORMANCE_DIR`, else under the shared folder.
fn validate_script() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("EXPOSITION_CONFORMANCE_DIR") {
        return Some(PathBuf::from(p).join("validate"));
    }
    Some(kagari_testkit::shared_path(
        "conformance/exposition/validate",
    ))
    .filter(|p| p.is_file())
}

/// Whether `KAGARI_REQUIRE_PEERS=true` (then a missing checker is a failure).
pub(crate) use kagari_testkit::require_peers as peers_required;

/// Runs `validate <format> -` on `input`.
pub(crate) fn validate(format: &str, input: &[u8]) -> Oracle {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let Some(script) = validate_script() else {
        return Oracle::Unavailable("validate script not found".into());
    };
    let child = Command::new(&script)
        .args(["--no-install", "-q", format, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Oracle::Unavailable(format!("{}: {e}", script.display())),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input).expect("write to validate");
    }
    let out = child.wait_with_output().expect("validate output");
    let msg = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => Oracle::Pass,
        Some(2) => Oracle::Unavailable(msg),
        _ => Oracle::Fail(msg),
    }
}
