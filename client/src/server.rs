//! A tiny blocking `/metrics` HTTP server on `std::net` (like client_python's
//! `start_http_server`), plus [`scrape`] for embedding in any HTTP stack.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use kagari_exposition::{negotiate, Format};

use crate::{Error, Registry};

/// Longest request head the server reads before answering 431.
const MAX_HEAD_BYTES: usize = 16 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// An encoded scrape: the negotiated format, its `Content-Type` and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeResponse {
    /// The format chosen from the `Accept` header.
    pub format: Format,
    /// Value for the `Content-Type` response header.
    pub content_type: &'static str,
    /// The exposition.
    pub body: Vec<u8>,
}

/// Encodes `registry` in the format an `Accept` header asks for (Text unless OpenMetrics is
/// requested), for use from any HTTP server.
pub fn scrape(registry: &Registry, accept: Option<&str>) -> Result<ScrapeResponse, Error> {
    let format = negotiate(accept);
    let mut body = Vec::with_capacity(8 * 1024);
    registry.encode(&mut body, format)?;
    Ok(ScrapeResponse {
        format,
        content_type: format.content_type(),
        body,
    })
}

/// A running `/metrics` server; stops when [`shutdown`](MetricsServer::shutdown) is called or
/// it is dropped.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Serves `registry` at `GET /metrics` on `addr` from a background thread (one short-lived
/// thread per connection). Use port 0 to pick a free port, then [`MetricsServer::local_addr`].
///
/// ```
/// use std::io::{Read, Write};
/// let registry = kagari_client::Registry::new();
/// let up: kagari_client::IntGauge = registry.create(("up", "Up.").into()).unwrap();
/// up.set(1);
/// let server = kagari_client::start_http_server("127.0.0.1:0", registry).unwrap();
/// let mut conn = std::net::TcpStream::connect(server.local_addr()).unwrap();
/// conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
/// let mut reply = String::new();
/// conn.read_to_string(&mut reply).unwrap();
/// assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"));
/// assert!(reply.ends_with("\nup 1\n"));
/// server.shutdown();
/// ```
pub fn start_http_server(
    addr: impl ToSocketAddrs,
    registry: Registry,
) -> Result<MetricsServer, Error> {
    let listener = TcpListener::bind(addr).map_err(|source| Error::Io {
        context: "binding",
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| Error::Io {
        context: "binding",
        source,
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let thread = std::thread::Builder::new()
        .name("kagari-metrics".into())
        .spawn(move || accept_loop(&listener, &registry, &stop2))
        .map_err(|source| Error::Io {
            context: "spawning the server thread",
            source,
        })?;
    Ok(MetricsServer {
        addr,
        stop,
        thread: Some(thread),
    })
}

fn accept_loop(listener: &TcpListener, registry: &Registry, stop: &AtomicBool) {
    for conn in listener.incoming() {
        if stop.load(Ordering::Acquire) {
            break;
        }
        let Ok(conn) = conn else {
            // E.g. out of file descriptors: back off instead of spinning.
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let registry = registry.clone();
        // A failed spawn drops the connection; the client sees it closed.
        let _ = std::thread::Builder::new()
            .name("kagari-metrics-conn".into())
            .spawn(move || {
                let _ = handle(conn, &registry);
            });
    }
}

impl MetricsServer {
    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections and joins the accept thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the blocking accept with a throwaway connection.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop_now();
        }
    }
}

/// A parsed request head: method, path (without query) and the `Accept` header.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RequestHead {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) accept: Option<String>,
}

/// Reads a request head; `Ok(None)` if it is malformed or too long.
pub(crate) fn read_head(r: &mut impl BufRead) -> io::Result<Option<RequestHead>> {
    let mut line = String::new();
    let mut total = 0usize;
    let mut next_line = |line: &mut String| -> io::Result<bool> {
        line.clear();
        let n = io::Read::take(&mut *r, (MAX_HEAD_BYTES - total) as u64 + 1).read_line(line)?;
        total += n;
        Ok(n > 0 && total <= MAX_HEAD_BYTES && line.ends_with('\n'))
    };
    if !next_line(&mut line)? {
        return Ok(None);
    }
    let mut parts = line.split_ascii_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    if !version.starts_with("HTTP/1.") {
        return Ok(None);
    }
    let path = target.split(['?', '#']).next().unwrap_or(target).to_owned();
    let method = method.to_owned();
    let mut accept = None;
    loop {
        if !next_line(&mut line)? {
            return Ok(None);
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            break;
        }
        if let Some((name, value)) = l.split_once(':') {
            if name.trim().eq_ignore_ascii_case("accept") {
                accept = Some(value.trim().to_owned());
            }
        }
    }
    Ok(Some(RequestHead {
        method,
        path,
        accept,
    }))
}

fn respond(
    w: &mut impl Write,
    status: &str,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> io::Result<()> {
    write!(
        w,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )?;
    if !head_only {
        w.write_all(body)?;
    }
    w.flush()
}

fn handle(conn: TcpStream, registry: &Registry) -> io::Result<()> {
    conn.set_read_timeout(Some(IO_TIMEOUT))?;
    conn.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut w = io::BufWriter::new(conn);
    let Some(head) = read_head(&mut reader)? else {
        return respond(
            &mut w,
            "400 Bad Request",
            "text/plain",
            b"bad request\n",
            false,
        );
    };
    let head_only = head.method == "HEAD";
    if head.method != "GET" && !head_only {
        return respond(
            &mut w,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n",
            false,
        );
    }
    if head.path != "/metrics" && head.path != "/" {
        return respond(
            &mut w,
            "404 Not Found",
            "text/plain",
            b"not found\n",
            head_only,
        );
    }
    match scrape(registry, head.accept.as_deref()) {
        Ok(s) => respond(&mut w, "200 OK", s.content_type, &s.body, head_only),
        Err(e) => {
            let msg = format!("error encoding metrics: {e}\n");
            respond(
                &mut w,
                "500 Internal Server Error",
                "text/plain",
                msg.as_bytes(),
                head_only,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(s: &str) -> Option<RequestHead> {
        read_head(&mut io::Cursor::new(s.as_bytes())).unwrap()
    }

    #[test]
    fn parses_heads() {
        assert_eq!(
            head("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\naccept:  application/openmetrics-text\r\n\r\n"),
            Some(RequestHead {
                method: "GET".into(),
                path: "/metrics".into(),
                accept: Some("application/openmetrics-text".into()),
            })
        );
        assert_eq!(
            head("GET /metrics HTTP/1.0\n\n").map(|h| h.accept),
            Some(None)
        );
        assert_eq!(head("GET /metrics\r\n\r\n"), None);
        assert_eq!(head("GET /metrics HTTP/1.1\r\nHost: a\r\n"), None);
        assert_eq!(head(""), None);
        let huge = format!(
            "GET / HTTP/1.1\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        assert_eq!(head(&huge), None);
    }

    #[test]
    fn scrape_negotiates() {
        let r = Registry::new();
        let s = scrape(&r, Some("application/openmetrics-text; version=1.0.0")).unwrap();
        assert_eq!(s.format, Format::OpenMetrics);
        assert_eq!(s.body, b"# EOF\n");
        let s = scrape(&r, None).unwrap();
        assert_eq!(s.format, Format::Text);
        assert_eq!(s.content_type, "text/plain; version=0.0.4; charset=utf-8");
    }
}
