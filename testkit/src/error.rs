//! The one error type of the test kit.

use std::path::PathBuf;
use std::time::Duration;

/// What went wrong in a test-kit helper, with the program, URL or path it concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A URL the HTTP helpers cannot use (only `http://host:port/path` is supported).
    #[error("unsupported URL {url:?}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// Connecting, writing or reading an HTTP exchange failed.
    #[error("HTTP {method} {url}: {source}")]
    Http {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL of the request.
        url: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The answer did not start with an `HTTP/1.x NNN` status line.
    #[error("HTTP {url}: no status line in the answer (first bytes {head:?})")]
    BadResponse {
        /// The URL of the request.
        url: String,
        /// The start of what came back.
        head: String,
    },
    /// An endpoint did not answer with a 2xx status in time.
    #[error("{url} did not answer 2xx within {timeout:?} (last: {last})")]
    Timeout {
        /// The URL polled.
        url: String,
        /// The bound that ran out.
        timeout: Duration,
        /// The last status or error seen.
        last: String,
    },
    /// A program (a peer's `run` script, promtool, a generator) could not be run.
    #[error("running {program}: {source}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `peers/run NAME ...` failed every attempt.
    #[error("could not start peer {name} after {attempts} attempts: {stderr}")]
    PeerStart {
        /// The peer's name as `run` knows it (`prometheus`, `pushgateway`, ...).
        name: String,
        /// How many ports were tried.
        attempts: u32,
        /// What `run` printed on stderr the last time.
        stderr: String,
    },
    /// `peers/run` succeeded but did not print a PID.
    #[error("peers/run {name} printed {stdout:?} instead of a PID")]
    NoPid {
        /// The peer's name.
        name: String,
        /// What it printed.
        stdout: String,
    },
    /// A peer's `run` script is not in the shared folder.
    #[error("no peers/run script at {0}")]
    NoRunScript(PathBuf),
}
