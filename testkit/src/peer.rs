//! Real Prometheus components started with `shared/peers/run`, stopped on drop.

use std::ffi::{OsStr, OsString};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::{peers_run, Error};

/// How many ports [`Peer::start`] tries (another session may take a port between the pick and
/// the start).
const START_ATTEMPTS: u32 = 5;

/// A free loopback port: one the kernel just handed out and that is released again.
///
/// # Panics
/// When no loopback port can be bound at all (the test cannot run then).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

/// Stops a peer started by `peers/run` (SIGTERM, then SIGKILL after 30 s): `run stop PID`.
/// Errors are ignored, as this runs from `Drop`.
pub fn stop_pid(pid: u32) {
    if let Some(run) = peers_run() {
        let _ = Command::new(run).arg("stop").arg(pid.to_string()).status();
    }
}

/// Sends SIGKILL to `pid` and waits (up to 5 s) until it is gone or a zombie, so it no longer
/// writes anything. Returns whether `kill -9` succeeded.
pub fn kill9(pid: u32) -> bool {
    let ok = Command::new("kill")
        .arg("-9")
        .arg(pid.to_string())
        .status()
        .is_ok_and(|s| s.success());
    for _ in 0..100 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
        if stat.is_empty() || state == Some('Z') {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    ok
}

/// A peer (`prometheus`, `pushgateway`, `alertmanager`, `node-exporter`) started with
/// `peers/run NAME --port P ARGS...`; stopped with `run stop PID` on drop.
///
/// `run` returns once the peer answers its readiness URL, so the peer is ready when
/// [`Peer::start`] returns.
#[derive(Debug)]
pub struct Peer {
    name: String,
    pid: Option<u32>,
    port: u16,
}

impl Peer {
    /// Starts `name` on a free loopback port with extra `args` (passed to `run` verbatim:
    /// `--config F`, `--data DIR`, peer flags), trying up to five ports.
    pub fn start<I, S>(name: &str, args: I) -> Result<Peer, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        Peer::start_with(name, |_| Ok(args.clone()))
    }

    /// [`Peer::start`] with arguments that depend on the port picked for each attempt (e.g. a
    /// config file naming the peer's own address, written by `args`); an error from `args`
    /// ends the attempts.
    pub fn start_with<F>(name: &str, mut args: F) -> Result<Peer, Error>
    where
        F: FnMut(u16) -> Result<Vec<OsString>, Error>,
    {
        let run = peers_run().ok_or_else(|| Error::NoRunScript(crate::shared_path("peers/run")))?;
        let mut stderr = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let args = args(port)?;
            let out = Command::new(&run)
                .arg(name)
                .arg("--port")
                .arg(port.to_string())
                .args(&args)
                .output()
                .map_err(|source| Error::Spawn {
                    program: run.clone(),
                    source,
                })?;
            if out.status.success() {
                let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                let pid = stdout.parse().map_err(|_| Error::NoPid {
                    name: name.to_owned(),
                    stdout,
                })?;
                return Ok(Peer {
                    name: name.to_owned(),
                    pid: Some(pid),
                    port,
                });
            }
            stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            eprintln!("peers/run {name} on port {port} failed: {stderr}");
        }
        Err(Error::PeerStart {
            name: name.to_owned(),
            attempts: START_ATTEMPTS,
            stderr,
        })
    }

    /// The peer's name as given to [`Peer::start`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The peer's PID, until it was stopped, killed or handed over.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Stops the peer now (`run stop PID`) instead of on drop.
    pub fn stop(&mut self) {
        if let Some(pid) = self.pid.take() {
            stop_pid(pid);
        }
    }

    /// Kills the peer with SIGKILL (as a crash would) and waits until it is gone.
    pub fn kill9(&mut self) -> bool {
        self.pid.take().is_some_and(kill9)
    }

    /// Gives up the guard: returns the PID, which the caller must stop ([`stop_pid`]).
    pub fn into_pid(mut self) -> Option<u32> {
        self.pid.take()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `peers/run` under the shared folder, for the rare test that drives it by hand.
pub fn run_script() -> PathBuf {
    crate::shared_path("peers/run")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_with_stops_at_an_error_from_args() {
        if !crate::peers_run_available("start_with_stops_at_an_error_from_args") {
            return;
        }
        let mut calls = 0;
        let err = Peer::start_with("prometheus", |_| {
            calls += 1;
            Err(Error::NoRunScript(PathBuf::from("args refused")))
        })
        .unwrap_err();
        assert!(matches!(err, Error::NoRunScript(_)), "{err}");
        assert_eq!(calls, 1);
    }

    #[test]
    fn free_port_can_be_bound_again() {
        let port = free_port();
        assert_ne!(port, 0);
        assert!(TcpListener::bind(("127.0.0.1", port)).is_ok());
    }
}
