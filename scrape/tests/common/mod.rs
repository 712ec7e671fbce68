//! Test doubles: a tiny loopback HTTP exporter and an in-memory appender.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kagari_model::Labels;
use kagari_scrape::{AppendError, Appendable, Appender, SeriesRef};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the exporter serves.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub gzip: bool,
    pub delay: Duration,
    /// When set, requests without exactly this `Authorization` value get 401.
    pub require_auth: Option<String>,
    /// Answer delimited protobuf (a bogus body) when `Accept` offers it, as client_golang does.
    pub protobuf_if_accepted: bool,
}

impl Response {
    pub fn text(body: &str) -> Self {
        Response {
            status: 200,
            content_type: Some("text/plain; version=0.0.4; charset=utf-8".into()),
            body: body.as_bytes().to_vec(),
            gzip: false,
            delay: Duration::ZERO,
            require_auth: None,
            protobuf_if_accepted: false,
        }
    }
    pub fn openmetrics(body: &str) -> Self {
        Response {
            content_type: Some("application/openmetrics-text; version=1.0.0; charset=utf-8".into()),
            ..Self::text(body)
        }
    }
}

/// A loopback exporter whose response can be changed while it runs.
#[derive(Clone)]
pub struct Exporter {
    pub addr: SocketAddr,
    pub response: Arc<Mutex<Response>>,
    /// Request heads received (lower-cased header names).
    pub requests: Arc<Mutex<Vec<HashMap<String, String>>>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Exporter {
    pub async fn start(resp: Response) -> Exporter {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let response = Arc::new(Mutex::new(resp));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (r2, q2) = (response.clone(), requests.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (r3, q3) = (r2.clone(), q2.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut tmp = [0u8; 4096];
                    loop {
                        let Ok(n) = sock.read(&mut tmp).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&tmp[..n]);
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                            buf.drain(..end + 4);
                            let mut headers = HashMap::new();
                            for (i, line) in head.lines().enumerate() {
                                if i == 0 {
                                    headers.insert(":request".to_string(), line.to_string());
                                } else if let Some((k, v)) = line.split_once(':') {
                                    headers.insert(k.trim().to_lowercase(), v.trim().to_string());
                                }
                            }
                            q3.lock().unwrap().push(headers.clone());
                            let resp = r3.lock().unwrap().clone();
                            tokio::time::sleep(resp.delay).await;
                            let authorized = match &resp.require_auth {
                                None => true,
                                Some(want) => headers.get("authorization") == Some(want),
                            };
                            let protobuf = resp.protobuf_if_accepted
                                && headers
                                    .get("accept")
                                    .is_some_and(|a| a.contains("application/vnd.google.protobuf"));
                            let mut resp = resp;
                            if protobuf {
                                resp.content_type = Some("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited".into());
                                resp.body = vec![0x0a, 0x03, b'a', b'b', b'c'];
                            }
                            let (status, body) = if authorized {
                                (resp.status, resp.body.clone())
                            } else {
                                (401, b"no".to_vec())
                            };
                            let reason = match status {
                                200 => "OK",
                                401 => "Unauthorized",
                                503 => "Service Unavailable",
                                _ => "Other",
                            };
                            let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
                            if let Some(ct) = &resp.content_type {
                                out.push_str(&format!("Content-Type: {ct}\r\n"));
                            }
                            let body = if resp.gzip && authorized {
                                out.push_str("Content-Encoding: gzip\r\n");
                                let mut e = flate2::write::GzEncoder::new(
                                    Vec::new(),
                                    flate2::Compression::default(),
                                );
                                e.write_all(&body).unwrap();
                                e.finish().unwrap()
                            } else {
                                body
                            };
                            out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
                            let mut bytes = out.into_bytes();
                            bytes.extend_from_slice(&body);
                            if sock.write_all(&bytes).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        Exporter {
            addr,
            response,
            requests,
            task: Arc::new(task),
        }
    }

    pub fn set(&self, f: impl FnOnce(&mut Response)) {
        f(&mut self.response.lock().unwrap());
    }

    pub fn target(&self) -> String {
        self.addr.to_string()
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

/// One committed sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
}

/// Keeps committed samples in memory.
#[derive(Default, Clone)]
pub struct MemStorage {
    pub samples: Arc<Mutex<Vec<Stored>>>,
    refs: Arc<Mutex<HashMap<Labels, u64>>>,
    pub rollbacks: Arc<Mutex<usize>>,
}

struct MemAppender {
    storage: MemStorage,
    pending: Vec<Stored>,
}

impl Appender for MemAppender {
    fn append(
        &mut self,
        sref: Option<SeriesRef>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        let mut refs = self.storage.refs.lock().unwrap();
        let n = refs.len() as u64 + 1;
        let r = *refs.entry(labels.clone()).or_insert(n);
        if let Some(s) = sref {
            assert_eq!(s.0, r, "a cached ref must name the same series: {labels}");
        }
        self.pending.push(Stored {
            labels: labels.clone(),
            t,
            v,
        });
        Ok(SeriesRef(r))
    }
    fn commit(self: Box<Self>) -> Result<(), AppendError> {
        self.storage.samples.lock().unwrap().extend(self.pending);
        Ok(())
    }
    fn rollback(self: Box<Self>) -> Result<(), AppendError> {
        *self.storage.rollbacks.lock().unwrap() += 1;
        Ok(())
    }
}

impl Appendable for MemStorage {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(MemAppender {
            storage: self.clone(),
            pending: Vec::new(),
        })
    }
}

impl MemStorage {
    pub fn all(&self) -> Vec<Stored> {
        self.samples.lock().unwrap().clone()
    }

    /// Samples of the series whose `Display` form is `series`.
    pub fn series(&self, series: &str) -> Vec<Stored> {
        self.all()
            .into_iter()
            .filter(|s| s.labels.to_string() == series)
            .collect()
    }

    /// Values of metric `name` (any labels), in commit order.
    pub fn values(&self, name: &str) -> Vec<f64> {
        self.all()
            .into_iter()
            .filter(|s| s.labels.metric_name() == Some(name))
            .map(|s| s.v)
            .collect()
    }

    pub fn len(&self) -> usize {
        self.samples.lock().unwrap().len()
    }
}

/// Polls `cond` every 20 ms until it holds; fails the test after 20 s.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
