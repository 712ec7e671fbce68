//! Dev-only test support for Kagari's crates: one copy of the plumbing the integration tests
//! that talk to real Prometheus components need. It is a `[dev-dependencies]` entry only, never
//! a normal dependency of a library crate, and it uses no async runtime.
//!
//! Contents:
//! - the shared folder: [`shared_dir`], [`shared_path`], [`workspace_root`];
//! - the peer rule: [`require_peers`], [`skip`], [`available`], [`peers_run_available`] and
//!   the [`skip_or_fail!`] macro (`KAGARI_REQUIRE_PEERS=true` makes a missing peer a failure,
//!   otherwise a loud SKIP);
//! - peers started with `shared/peers/run`: [`Peer`] (stopped on drop), [`peers_run`],
//!   [`run_script`], [`stop_pid`], [`kill9`], and [`free_port`];
//! - a tiny blocking HTTP/1.0 client: [`http_get`], [`http_post_form`], [`wait_for_http`],
//!   [`encode_param`];
//! - external programs: [`promtool`], [`command_runs`], [`gen_openmetrics`],
//!   [`gen_openmetrics_path`];
//! - [`copy_dir`] and [`copy_dir_except`], to copy a fixture into a scratch directory;
//! - [`CountingAlloc`], a counting global allocator for tests that measure heap use;
//! - [`Error`], the one error type.
//!
//! ```no_run
//! use std::time::Duration;
//! use kagari_testkit::{promtool, skip_or_fail, wait_for_http, Peer};
//!
//! fn real_prometheus_answers() {
//!     let have = promtool().is_some() && kagari_testkit::peers_run().is_some();
//!     skip_or_fail!(have, "real_prometheus_answers", "promtool or peers/run missing");
//!     let peer = Peer::start("prometheus", ["--storage.tsdb.retention.time=100y"]).unwrap();
//!     let body = wait_for_http(&format!("{}/-/ready", peer.url()), Duration::from_secs(30));
//!     assert!(body.is_ok());
//! } // the peer is stopped here
//! # real_prometheus_answers();
//! ```
//!
//! The pure parts run anywhere:
//!
//! ```
//! assert_eq!(kagari_testkit::encode_param("up{a=\"b\"}"), "up%7Ba%3D%22b%22%7D");
//! assert!(kagari_testkit::shared_path("peers/run").ends_with("peers/run"));
//! ```

mod alloc;
mod error;
mod fs;
mod http;
mod peer;
mod shared;

pub use alloc::CountingAlloc;
pub use error::Error;
pub use fs::{copy_dir, copy_dir_except};
pub use http::{encode_param, http_get, http_post_form, wait_for_http};
pub use peer::{free_port, kill9, run_script, stop_pid, Peer};
pub use shared::{
    available, command_runs, gen_openmetrics, gen_openmetrics_path, peers_run, peers_run_available,
    promtool, require_peers, shared_dir, shared_path, skip, workspace_root,
};
