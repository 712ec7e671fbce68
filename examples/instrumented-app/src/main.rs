//! An HTTP app instrumented with `kagari-client`.
//!
//! Usage: `kagari-instrumented-app [ADDR]` (default `127.0.0.1:8080`).
//!
//! Routes: `GET /` (hello), `GET /work?ms=N` (sleeps N ms, at most 5000), `GET /fail`
//! (answers 500 and counts an error) and `GET /metrics` (the exposition, text or OpenMetrics
//! by `Accept`). Every request is counted by path and status code, tracked in flight, timed
//! into a summary and a histogram, and stamps the last-served time.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use kagari_client::{
    exponential_buckets, register_build_info, scrape, Gauge, HistogramVec, IntCounterVec, IntGauge,
    Opts, ProcessCollector, Registry, Summary, SummaryOpts,
};

/// The app's metrics (cheap handles, cloned into each connection thread).
#[derive(Debug, Clone)]
struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    errors: IntCounterVec,
    in_progress: IntGauge,
    last_served: Gauge,
    latency_summary: Summary,
    latency_histogram: HistogramVec,
}

impl Metrics {
    fn new() -> Result<Self, kagari_client::Error> {
        let registry = Registry::new();
        let ns = "demo";
        let requests = registry.create_family(
            Opts::new("http_requests_total", "HTTP requests served.").namespace(ns),
            &["path", "code"],
        )?;
        let errors = registry.create_family(
            Opts::new(
                "http_request_errors_total",
                "HTTP requests answered with a 5xx.",
            )
            .namespace(ns),
            &["path"],
        )?;
        let in_progress = registry.create(
            Opts::new("http_requests_in_progress", "HTTP requests being served.").namespace(ns),
        )?;
        let last_served = registry.create(
            Opts::new(
                "http_last_served_timestamp_seconds",
                "Unix time of the last response.",
            )
            .namespace(ns),
        )?;
        let latency_summary = Summary::with_opts(
            SummaryOpts::new()
                .objective(0.5, 0.05)
                .objective(0.9, 0.01)
                .objective(0.99, 0.001),
        )?;
        registry.register(
            Opts::new(
                "http_request_latency_seconds",
                "Request latency (sliding 10 min window).",
            )
            .namespace(ns),
            latency_summary.clone(),
        )?;
        let latency_histogram =
            HistogramVec::with_buckets(&["path"], exponential_buckets(0.001, 2.0, 14)?)?;
        registry.register(
            Opts::new("http_request_duration_seconds", "Request duration by path.").namespace(ns),
            latency_histogram.clone(),
        )?;
        registry.register_collector(ProcessCollector::new())?;
        register_build_info(&registry, ns, &[("version", env!("CARGO_PKG_VERSION"))])?;
        Ok(Metrics {
            registry,
            requests,
            errors,
            in_progress,
            last_served,
            latency_summary,
            latency_histogram,
        })
    }
}

/// One parsed request: method, path, query and `Accept`.
#[derive(Debug, Default)]
struct Request {
    method: String,
    path: String,
    query: String,
    accept: Option<String>,
}

fn read_request(r: &mut impl BufRead) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_ascii_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut req = Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        accept: None,
    };
    for _ in 0..100 {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let l = line.trim_end();
        if l.is_empty() {
            return Ok(Some(req));
        }
        if let Some((n, v)) = l.split_once(':') {
            if n.eq_ignore_ascii_case("accept") {
                req.accept = Some(v.trim().to_owned());
            }
        }
    }
    Ok(None)
}

fn reply(w: &mut impl Write, code: u16, content_type: &str, body: &[u8]) -> io::Result<()> {
    let reason = match code {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Internal Server Error",
    };
    write!(
        w,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )?;
    w.write_all(body)?;
    w.flush()
}

/// Serves one request and returns the status code sent.
fn route(m: &Metrics, req: &Request, w: &mut impl Write) -> io::Result<u16> {
    const TEXT: &str = "text/plain; charset=utf-8";
    if req.method != "GET" {
        reply(w, 405, TEXT, b"GET only\n")?;
        return Ok(405);
    }
    match req.path.as_str() {
        "/" => reply(w, 200, TEXT, b"hello from kagari\n").map(|()| 200),
        "/work" => {
            let ms: u64 = req
                .query
                .split('&')
                .find_map(|kv| kv.strip_prefix("ms="))
                .and_then(|v| v.parse().ok())
                .unwrap_or(10)
                .min(5000);
            std::thread::sleep(Duration::from_millis(ms));
            reply(w, 200, TEXT, format!("worked {ms} ms\n").as_bytes()).map(|()| 200)
        }
        "/fail" => reply(w, 500, TEXT, b"failed on purpose\n").map(|()| 500),
        "/metrics" => match scrape(&m.registry, req.accept.as_deref()) {
            Ok(s) => reply(w, 200, s.content_type, &s.body).map(|()| 200),
            Err(e) => reply(w, 500, TEXT, format!("{e}\n").as_bytes()).map(|()| 500),
        },
        _ => reply(w, 404, TEXT, b"not found\n").map(|()| 404),
    }
}

fn handle(m: &Metrics, conn: TcpStream) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let Some(req) = read_request(&mut reader)? else {
        return Ok(());
    };
    let _in_flight = m.in_progress.track_inprogress();
    // Known routes keep their path label; anything else is folded into one value so a
    // scanner cannot blow up the number of series.
    let path = match req.path.as_str() {
        p @ ("/" | "/work" | "/fail" | "/metrics") => p,
        _ => "other",
    };
    let timer = m
        .latency_histogram
        .with_label_values(&[path])
        .map(|h| h.start_timer());
    let summary_timer = m.latency_summary.start_timer();
    let mut w = io::BufWriter::new(conn);
    let code = route(m, &req, &mut w)?;
    drop(summary_timer);
    drop(timer);
    if let Ok(c) = m
        .requests
        .with_label_values(&[path, code.to_string().as_str()])
    {
        c.inc();
    }
    if code >= 500 {
        if let Ok(c) = m.errors.with_label_values(&[path]) {
            c.inc();
        }
    }
    m.last_served.set_to_current_time();
    Ok(())
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let metrics = match Metrics::new() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("setting up metrics: {e}");
            std::process::exit(1);
        }
    };
    let listener = match TcpListener::bind(&addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("listening on {addr}: {e}");
            std::process::exit(1);
        }
    };
    let local = listener.local_addr().map(|a| a.to_string()).unwrap_or(addr);
    println!("listening on http://{local}");
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let m = metrics.clone();
        std::thread::spawn(move || {
            if let Err(e) = handle(&m, conn) {
                eprintln!("connection error: {e}");
            }
        });
    }
}
