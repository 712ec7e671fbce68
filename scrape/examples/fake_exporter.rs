//! A Rust stand-in for `shared/bench/fake-exporter`: `--targets T` loopback exporters of
//! `--series N` changing series each, on ports `--port P` upward, exiting after
//! `--duration` seconds.
//!
//! The content follows the kit's Python exporter (same families, label sets, series counts
//! and value formulas, so both scrapers see the same bytes up to float rounding ties); it
//! exists because the Python exporter needs a large share of this 2-core machine to serve
//! 100 × 1,000 series every second, which would starve whichever scraper is measured.
//! Differences: HTTP/1.1 keep-alive (the Python server closes after every response, as
//! HTTP/1.0), and requests are served on a small tokio runtime.
//!
//! ```text
//! cargo run --release -p kagari-scrape --example fake_exporter -- --targets 100 --series 1000 --port 19200 --duration 600
//! ```

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const LES: [&str; 10] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "+Inf",
];

/// One exporter's changing state.
struct Target {
    idx: u64,
    scrapes: u64,
    counters: Vec<String>,
    cvals: Vec<u64>,
    gauges: Vec<String>,
    /// Per histogram: bucket prefix (up to `le="`), sum prefix, count prefix.
    hists: Vec<(String, String, String)>,
    hvals: Vec<([u64; 10], f64)>,
}

/// Rounds to `digits` decimals; printed with `{:?}` this gives Python's
/// `repr(round(x, d))` (shortest form, `.0` on integers) except on rounding ties.
fn rounded(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

impl Target {
    fn new(idx: u64, n: usize) -> Target {
        let n_hist = (n / 10) / 12;
        let n_gauge = (4 * n) / 10;
        let n_counter = n.saturating_sub(n_gauge + 12 * n_hist);
        Target {
            idx,
            scrapes: 0,
            counters: (0..n_counter)
                .map(|i| {
                    let code = if i % 2 == 0 { "200" } else { "500" };
                    format!(
                        "fake_requests_total{{route=\"/r{}\",code=\"{code}\"}} ",
                        i / 2
                    )
                })
                .collect(),
            cvals: vec![0; n_counter],
            gauges: (0..n_gauge)
                .map(|i| format!("fake_temperature_celsius{{sensor=\"s{i}\"}} "))
                .collect(),
            hists: (0..n_hist)
                .map(|h| {
                    (
                        format!("fake_latency_seconds_bucket{{route=\"/r{h}\",le=\""),
                        format!("fake_latency_seconds_sum{{route=\"/r{h}\"}} "),
                        format!("fake_latency_seconds_count{{route=\"/r{h}\"}} "),
                    )
                })
                .collect(),
            hvals: vec![([0; 10], 0.0); n_hist],
        }
    }

    fn series(&self) -> usize {
        self.counters.len() + self.gauges.len() + 12 * self.hists.len()
    }

    fn render(&mut self, out: &mut String) {
        self.scrapes += 1;
        let (s, t) = (self.scrapes, self.idx);
        out.clear();
        out.push_str("# HELP fake_requests_total Requests.\n# TYPE fake_requests_total counter\n");
        for (i, (p, v)) in self.counters.iter().zip(&mut self.cvals).enumerate() {
            let i = i as u64;
            *v += if i % 2 == 0 {
                (i * 7 + s * 3 + t) % 11
            } else {
                u64::from((i + s) % 3 == 0)
            };
            let _ = writeln!(out, "{p}{v}");
        }
        out.push_str(
            "# HELP fake_temperature_celsius Temperature.\n# TYPE fake_temperature_celsius gauge\n",
        );
        for (i, p) in self.gauges.iter().enumerate() {
            let x = 50.0 + 20.0 * (s as f64 / 30.0 + i as f64 + t as f64).sin();
            let _ = writeln!(out, "{p}{:?}", rounded(x, 1));
        }
        if !self.hists.is_empty() {
            out.push_str(
                "# HELP fake_latency_seconds Latency.\n# TYPE fake_latency_seconds histogram\n",
            );
        }
        for (h, ((pb, ps, pc), (cum, total))) in self.hists.iter().zip(&mut self.hvals).enumerate()
        {
            let h = h as u64;
            let obs = 5 + (s * 7 + h + t) % 20;
            let n = LES.len() as u64;
            for (j, c) in cum.iter_mut().enumerate() {
                let j = j as u64;
                *c += if j < n - 1 { obs * (j + 1) / n } else { obs };
            }
            *total += obs as f64 * (0.05 + 0.01 * ((s + h) % 7) as f64);
            for (le, c) in LES.iter().zip(cum.iter()) {
                let _ = writeln!(out, "{pb}{le}\"}} {c}");
            }
            let _ = writeln!(out, "{ps}{:?}", rounded(*total, 3));
            let _ = writeln!(out, "{pc}{}", cum[LES.len() - 1]);
        }
    }
}

async fn serve(listener: TcpListener, target: Arc<Mutex<Target>>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            continue;
        };
        let target = target.clone();
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(4096);
            let mut tmp = [0u8; 4096];
            let mut body = String::new();
            let mut out = Vec::new();
            loop {
                let Ok(n) = sock.read(&mut tmp).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&tmp[..n]);
                while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let path_ok =
                        buf.starts_with(b"GET /metrics ") || buf.starts_with(b"GET /metrics?");
                    buf.drain(..end + 4);
                    out.clear();
                    if path_ok {
                        {
                            let mut t = target.lock().unwrap_or_else(|e| e.into_inner());
                            t.render(&mut body);
                        }
                        let _ = write!(
                            Cursor(&mut out),
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        );
                        out.extend_from_slice(body.as_bytes());
                    } else {
                        out.extend_from_slice(
                            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                        );
                    }
                    if sock.write_all(&out).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
}

/// `fmt::Write` into a byte vector.
struct Cursor<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = arg(&args, "--port", 19200);
    let targets: u16 = arg(&args, "--targets", 1);
    let series: usize = arg(&args, "--series", 1000);
    let duration: f64 = arg(&args, "--duration", 600.0);
    let threads: usize = arg(&args, "--threads", 1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut n = 0;
        for i in 0..targets {
            let listener = TcpListener::bind(("127.0.0.1", port + i)).await?;
            let t = Target::new(u64::from(i), series);
            n = t.series();
            tokio::spawn(serve(listener, Arc::new(Mutex::new(t))));
        }
        println!(
            "fake-exporter: {targets} targets x {n} series on 127.0.0.1:{port}-{}, exiting in {duration}s",
            port + targets.saturating_sub(1)
        );
        tokio::time::sleep(Duration::from_secs_f64(duration)).await;
        Ok::<(), std::io::Error>(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_shape_as_the_python_exporter() {
        let mut t = Target::new(3, 1000);
        assert_eq!(t.series(), 1000);
        let mut body = String::new();
        t.render(&mut body);
        let samples = body.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(samples, 1000);
        assert!(body.contains("fake_requests_total{route=\"/r0\",code=\"200\"} 6\n"));
        assert!(body.contains("fake_latency_seconds_bucket{route=\"/r0\",le=\"+Inf\"} 15\n"));
    }
}
