//! `kagari`: a Prometheus-compatible server wired from the Kagari crates.
//!
//! The binary stays thin: flags ([`flags`]), configuration loading ([`config`]), the storage
//! seam ([`storage`]: `kagari_tsdb::Db` as scrape's `Appendable`), self-monitoring
//! ([`metrics`]), the HTTP API ([`api`]), the other endpoints ([`web`]) and the UI ([`ui`]).
//! Scraping lives in `kagari-scrape`, evaluation in `kagari-promql`, storage in `kagari-tsdb`.
//!
//! Run `kagari` without flags for a server on `0.0.0.0:9090` that scrapes itself every 5s.

mod api;
mod config;
mod features;
mod federate;
mod flags;
mod metrics;
mod rules;
mod state;
mod storage;
mod ui;
mod web;
mod webconfig;
mod weburl;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use clap::Parser;
use kagari_promql::engine::EngineOptions;
use kagari_scrape::{ManagerOptions, ScrapeManager};
use kagari_tsdb::Db;
use tokio::sync::{Notify, Semaphore};

use crate::flags::Flags;
use crate::state::AppState;

/// Stack of every runtime thread. PromQL parsing and evaluation recurse over the syntax tree,
/// and the parser admits trees (100 nesting levels × 1,000 chained operators) far deeper than
/// tokio's 2 MiB default survives; Go's growable stacks take them. Only touched pages count
/// towards RSS.
const THREAD_STACK: usize = 64 << 20;

/// How often the head is checked for block cutting and retention (as Prometheus does).
const COMPACT_EVERY: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    let flags = Flags::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&flags.log_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "starting the runtime");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(flags)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// The scrape target of the embedded config: this server's own address (`localhost` for a
/// wildcard listen address).
fn self_target(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    }
}

async fn run(flags: Flags) -> Result<(), String> {
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "starting kagari (Prometheus-compatible server)"
    );
    let features = features::Features::from_flags(&flags.enable_feature);
    features.log();
    let db_opts = kagari_tsdb::Options {
        retention_time: i64::try_from(flags.retention().as_duration().as_millis())
            .unwrap_or(i64::MAX),
        retention_size: flags.retention_size.bytes(),
        ..kagari_tsdb::Options::default()
    };
    let web_cfg = webconfig::WebConfig::load(flags.web_config_file.as_deref())
        .map_err(|e| format!("error loading web config: {e}"))?;
    if web_cfg.tls.is_some() {
        tracing::info!("TLS is enabled");
    }
    let std_listener = std::net::TcpListener::bind(&flags.listen_address)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| format!("listening on {}: {e}", flags.listen_address))?;
    let addr = std_listener.local_addr().map_err(|e| e.to_string())?;
    let self_target = self_target(addr);
    let urls = weburl::WebUrls::resolve(
        flags.external_url.as_deref(),
        flags.route_prefix.as_deref(),
        &weburl::hostname(),
        addr.port(),
    )
    .map_err(|e| {
        format!(
            "parse external URL {:?}: {e}",
            flags.external_url.as_deref().unwrap_or("")
        )
    })?;
    tracing::info!(external_url = %urls.external_url, route_prefix = %urls.route_prefix, "web URLs");

    let loaded = match &flags.config_file {
        Some(p) => config::load_file(p),
        None => config::load_embedded(&self_target, &urls.route("/metrics")),
    }
    .map_err(|e| format!("error loading config: {e}"))?;
    if flags.config_file.is_none() {
        tracing::info!(target = %self_target, "no --config.file: using the embedded config that scrapes this server every 5s");
    }

    // While the WAL replays, answer 503 (and /-/healthy) on the same socket, as upstream.
    let early =
        tokio::net::TcpListener::from_std(std_listener.try_clone().map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let early = web_cfg.listener(early).map_err(|e| e.to_string())?;
    let early_app = web_cfg.protect(web::starting_router(&urls));
    let (opened_tx, opened_rx) = tokio::sync::oneshot::channel::<()>();
    let starting = tokio::spawn(async move {
        axum::serve(early, early_app)
            .with_graceful_shutdown(async {
                let _ = opened_rx.await;
            })
            .await
    });
    let path = flags.storage_path.clone();
    let db = tokio::task::spawn_blocking(move || Db::open(&path, db_opts))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("opening storage at {}: {e}", flags.storage_path.display()))?;
    let db = Arc::new(db);
    tracing::info!(path = %flags.storage_path.display(), series = db.head().num_series(), "storage opened");
    let _ = opened_tx.send(());
    if let Ok(Err(e)) = starting.await {
        tracing::warn!(error = %e, "start-up responder");
    }
    let listener = tokio::net::TcpListener::from_std(std_listener)
        .and_then(|l| web_cfg.listener(l))
        .map_err(|e| e.to_string())?;

    let appendable = storage::DbAppendable::new(db.clone());
    let metrics = metrics::Metrics::new(db.clone(), appendable.stats().clone())
        .map_err(|e| format!("registering self-monitoring metrics: {e}"))?;
    let mut manager = ScrapeManager::new(Arc::new(appendable), ManagerOptions::default());
    manager
        .apply_config(&loaded.config)
        .map_err(|e| format!("applying config: {e}"))?;

    let engine = EngineOptions {
        lookback_delta: i64::try_from(flags.query_lookback_delta.as_duration().as_millis())
            .unwrap_or(i64::MAX),
        max_samples: flags.query_max_samples,
        timeout: Some(flags.query_timeout.as_duration()),
        ..EngineOptions::default()
    };
    let rules = Arc::new(
        rules::Rules::start(
            db.clone(),
            &flags.rules,
            engine.clone(),
            urls.external_url.clone(),
            &loaded.config,
            flags.config_file.as_deref(),
        )
        .map_err(|e| format!("starting rule evaluation: {e}"))?,
    );
    metrics
        .registry
        .register_collector(rules.collector())
        .map_err(|e| format!("registering rule metrics: {e}"))?;
    let st = Arc::new(AppState {
        db: db.clone(),
        engine,
        query_slots: Semaphore::new(flags.query_max_concurrency.max(1)),
        flags,
        web: urls,
        parser: features.parser,
        config: RwLock::new(loaded),
        scrape: Mutex::new(Some(manager)),
        metrics,
        self_target,
        quit: Notify::new(),
        quitting: AtomicBool::new(false),
        start_time: SystemTime::now(),
        rules,
    });

    let compactor = tokio::spawn(compact_loop(db.clone()));
    // Installed before serving, so a SIGHUP after readiness never hits the default action.
    let hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| format!("installing the SIGHUP handler: {e}"))?;
    let reloader = tokio::spawn(reload_on_sighup(st.clone(), hup));
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("installing the SIGTERM handler: {e}"))?;
    let int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| format!("installing the SIGINT handler: {e}"))?;
    tracing::info!(%addr, "listening; server is ready to receive web requests");
    let app = web_cfg.protect(web::router(st.clone()));
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal(st.clone(), term, int))
        .await;
    st.quitting
        .store(true, std::sync::atomic::Ordering::Release);

    tracing::info!("stopping scrape manager");
    let manager = st
        .scrape
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    if let Some(m) = manager {
        m.stop().await;
    }
    compactor.abort();
    tracing::info!("stopping rule evaluation and the notifier");
    let rules = st.rules.clone();
    let _ = tokio::task::spawn_blocking(move || rules.stop()).await;
    reloader.abort();
    tracing::info!("closing storage");
    let closed = tokio::task::spawn_blocking(move || db.close())
        .await
        .map_err(|e| e.to_string())?;
    served.map_err(|e| format!("serving HTTP: {e}"))?;
    closed.map_err(|e| format!("closing storage: {e}"))?;
    tracing::info!("see you next time!");
    Ok(())
}

/// Cuts blocks and applies retention periodically.
async fn compact_loop(db: Arc<Db>) {
    let mut tick = tokio::time::interval(COMPACT_EVERY);
    tick.tick().await;
    loop {
        tick.tick().await;
        let db = db.clone();
        match tokio::task::spawn_blocking(move || db.compact()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "compaction failed"),
            Err(e) => tracing::error!(error = %e, "compaction task failed"),
        }
    }
}

/// Reloads the configuration on every SIGHUP, as Prometheus does.
async fn reload_on_sighup(st: Arc<AppState>, mut hup: tokio::signal::unix::Signal) {
    while hup.recv().await.is_some() {
        tracing::info!("received SIGHUP, reloading configuration");
        if let Err(e) = st.reload() {
            tracing::error!(error = %e, "reloading configuration");
        }
    }
}

/// Resolves on SIGINT, SIGTERM or `/-/quit`.
async fn shutdown_signal(
    st: Arc<AppState>,
    mut term: tokio::signal::unix::Signal,
    mut int: tokio::signal::unix::Signal,
) {
    let ctrl_c = async {
        int.recv().await;
    };
    let term = async {
        term.recv().await;
    };
    tokio::select! {
        () = ctrl_c => tracing::warn!("received SIGINT, exiting gracefully"),
        () = term => tracing::warn!("received SIGTERM, exiting gracefully"),
        () = st.quit.notified() => tracing::warn!("termination requested via /-/quit"),
    }
    st.quitting
        .store(true, std::sync::atomic::Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_target_names_a_reachable_address() {
        let t = |s: &str| self_target(s.parse().unwrap());
        assert_eq!(t("0.0.0.0:9090"), "localhost:9090");
        assert_eq!(t("[::]:9091"), "localhost:9091");
        assert_eq!(t("127.0.0.1:5"), "127.0.0.1:5");
    }
}
