//! Where the shared folder is, the peer rule, and the external programs tests compare with.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::Error;

/// The fallback shared folder when neither `KAGARI_SHARED` nor `../shared` exists.
const DEFAULT_SHARED: &str = "/work/shared";
/// The environment variable naming the shared folder.
const SHARED_ENV: &str = "KAGARI_SHARED";
/// The environment variable that turns a missing peer from a SKIP into a failure.
const REQUIRE_ENV: &str = "KAGARI_REQUIRE_PEERS";

/// The workspace root (the directory holding the root `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// The shared folder: `$KAGARI_SHARED` (a relative value is taken from the workspace root, as
/// `scripts/test-all` means it), else `shared/` beside the workspace root, else
/// `/work/shared`. The first of these that exists wins; when none does, `/work/shared`.
pub fn shared_dir() -> PathBuf {
    let root = workspace_root();
    let mut candidates = Vec::with_capacity(3);
    if let Some(s) = std::env::var_os(SHARED_ENV).filter(|s| !s.is_empty()) {
        candidates.push(root.join(s));
    }
    candidates.push(root.join("../shared"));
    candidates.push(PathBuf::from(DEFAULT_SHARED));
    candidates
        .into_iter()
        .find(|p| p.is_dir())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SHARED))
}

/// `rel` under [`shared_dir`], e.g. `shared_path("peers/run")`.
pub fn shared_path(rel: impl AsRef<Path>) -> PathBuf {
    shared_dir().join(rel)
}

/// Whether a missing peer must fail the test: `KAGARI_REQUIRE_PEERS=true` (CI sets it).
pub fn require_peers() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "true")
}

/// The peer rule for a test that cannot run because `missing` is not there: panics when
/// [`require_peers`] holds, otherwise prints a loud SKIP line (the caller then returns).
///
/// Prefer the [`skip_or_fail!`](crate::skip_or_fail) macro, which also returns.
#[track_caller]
pub fn skip(test: &str, missing: &str) {
    assert!(
        !require_peers(),
        "{test}: {missing}, and {REQUIRE_ENV}=true makes a missing peer a failure"
    );
    eprintln!(
        "\n!!!!!!!! SKIP {test}: {missing}; test NOT run, NOT a pass \
         (set {REQUIRE_ENV}=true to fail instead) !!!!!!!!\n"
    );
}

/// The peer rule as a check: returns `have`, and when it is false applies [`skip`] first
/// (so `if !available(have, test, missing) { return; }` skips or fails).
#[track_caller]
pub fn available(have: bool, test: &str, missing: &str) -> bool {
    if !have {
        skip(test, missing);
    }
    have
}

/// The peer rule for the peers' `run` script: `true` when [`peers_run`] finds it, otherwise
/// [`skip`] (a SKIP line, or a panic when [`require_peers`] holds) and `false`.
#[track_caller]
pub fn peers_run_available(test: &str) -> bool {
    let have = peers_run().is_some();
    let missing = || format!("{} not found", shared_path("peers/run").display());
    if !have {
        skip(test, &missing());
    }
    have
}

/// Applies the peer rule and returns from the calling test when `$cond` is false:
/// `skip_or_fail!(have_promtool, "my_test", "promtool not installed")`.
///
/// The message may be a format string with arguments.
#[macro_export]
macro_rules! skip_or_fail {
    ($cond:expr, $test:expr, $($msg:tt)+) => {
        if !$cond {
            $crate::skip($test, &::std::format!($($msg)+));
            return;
        }
    };
}

/// `true` when `program arg` runs and exits 0 (e.g. `command_runs("promtool", "--version")`).
pub fn command_runs(program: impl AsRef<OsStr>, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The peers' `run` script (`peers/run` under [`shared_dir`]), if it exists.
pub fn peers_run() -> Option<PathBuf> {
    Some(shared_path("peers/run")).filter(|p| p.exists())
}

/// `promtool` when `promtool --version` runs (from `PATH`), else `None`.
pub fn promtool() -> Option<PathBuf> {
    const PROMTOOL: &str = "promtool";
    command_runs(PROMTOOL, "--version").then(|| PathBuf::from(PROMTOOL))
}

/// The data generator `bench/gen-openmetrics` under [`shared_dir`] (it may not exist).
pub fn gen_openmetrics_path() -> PathBuf {
    shared_path("bench/gen-openmetrics")
}

/// Runs `bench/gen-openmetrics ARGS...` and returns its output (status not checked).
pub fn gen_openmetrics<I, S>(args: I) -> Result<Output, Error>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let program = gen_openmetrics_path();
    Command::new(&program)
        .args(args)
        .output()
        .map_err(|source| Error::Spawn { program, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_root_has_the_root_manifest() {
        let root = workspace_root();
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
        assert!(manifest.contains("[workspace]"), "{}", root.display());
    }

    #[test]
    fn shared_path_is_below_shared_dir() {
        assert_eq!(shared_path("peers/run"), shared_dir().join("peers/run"));
    }

    #[test]
    fn command_runs_tells_a_missing_program() {
        assert!(!command_runs(
            "/nonexistent/kagari-testkit-program",
            "--version"
        ));
        assert!(command_runs("true", "x"));
        assert!(!command_runs("false", "x"));
    }
}
