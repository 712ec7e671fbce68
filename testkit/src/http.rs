//! A tiny blocking HTTP/1.0 client for tests: one request a connection, no chunked bodies.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::Error;

/// How long one request may wait for the peer to answer.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// The pause between two polls in [`wait_for_http`].
const POLL: Duration = Duration::from_millis(100);

/// `http://host:port/path?query` split into the address to dial and the request target.
fn split_url(url: &str) -> Result<(&str, &str), Error> {
    let bad = |reason| Error::BadUrl {
        url: url.to_owned(),
        reason,
    };
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| bad("only http:// URLs"))?;
    let (host, target) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if !host.contains(':') {
        return Err(bad("no port"));
    }
    Ok((host, target))
}

/// Sends one request and reads the whole answer; returns (status, body).
fn exchange(
    method: &'static str,
    url: &str,
    extra_headers: &str,
    body: &[u8],
) -> Result<(u16, String), Error> {
    let (host, target) = split_url(url)?;
    let io = |source| Error::Http {
        method,
        url: url.to_owned(),
        source,
    };
    let mut c = TcpStream::connect(host).map_err(io)?;
    c.set_read_timeout(Some(IO_TIMEOUT)).map_err(io)?;
    c.set_write_timeout(Some(IO_TIMEOUT)).map_err(io)?;
    let head = format!(
        "{method} {target} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n{extra_headers}\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    c.write_all(head.as_bytes()).map_err(io)?;
    c.write_all(body).map_err(io)?;
    let mut resp = Vec::new();
    c.read_to_end(&mut resp).map_err(io)?;
    let resp = String::from_utf8_lossy(&resp);
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    let status = head
        .strip_prefix("HTTP/1.")
        .and_then(|h| h.split_ascii_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| Error::BadResponse {
            url: url.to_owned(),
            head: head.chars().take(64).collect(),
        })?;
    Ok((status, body.to_owned()))
}

/// `GET url` (`http://host:port/path?query`); returns (status, body).
pub fn http_get(url: &str) -> Result<(u16, String), Error> {
    exchange("GET", url, "", &[])
}

/// `POST url` with `fields` as an `application/x-www-form-urlencoded` body; returns
/// (status, body).
pub fn http_post_form(url: &str, fields: &[(&str, &str)]) -> Result<(u16, String), Error> {
    let mut body = String::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            body.push('&');
        }
        body.push_str(&encode_param(k));
        body.push('=');
        body.push_str(&encode_param(v));
    }
    exchange(
        "POST",
        url,
        "Content-Type: application/x-www-form-urlencoded\r\n",
        body.as_bytes(),
    )
}

/// Polls `GET url` until it answers 2xx (returning that body) or `timeout` runs out.
pub fn wait_for_http(url: &str, timeout: Duration) -> Result<String, Error> {
    let start = Instant::now();
    loop {
        let last = match http_get(url) {
            Ok((status, body)) if (200..300).contains(&status) => return Ok(body),
            Ok((status, _)) => format!("status {status}"),
            Err(e @ Error::BadUrl { .. }) => return Err(e),
            Err(e) => e.to_string(),
        };
        if start.elapsed() >= timeout {
            return Err(Error::Timeout {
                url: url.to_owned(),
                timeout,
                last,
            });
        }
        std::thread::sleep(POLL);
    }
}

/// Percent-encodes a query parameter or form value (everything but `A-Za-z0-9-_.~`).
pub fn encode_param(v: &str) -> String {
    let mut out = String::with_capacity(v.len() * 3);
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::net::TcpListener;

    /// Serves `answers` one connection each; returns the URL and the requests it saw.
    fn server(answers: Vec<&'static str>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for answer in answers {
                let (mut s, _) = l.accept().unwrap();
                let mut r = std::io::BufReader::new(s.try_clone().unwrap());
                let mut req = String::new();
                let mut len = 0;
                loop {
                    let mut line = String::new();
                    r.read_line(&mut line).unwrap();
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.trim().parse().unwrap();
                    }
                    req.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; len];
                r.read_exact(&mut body).unwrap();
                req.push_str(&String::from_utf8(body).unwrap());
                seen.push(req);
                s.write_all(answer.as_bytes()).unwrap();
            }
            seen
        });
        (url, h)
    }

    #[test]
    fn get_returns_status_and_body() {
        let (url, h) = server(vec!["HTTP/1.0 404 Not Found\r\nX: y\r\n\r\nnope"]);
        let got = http_get(&format!("{url}/a?b=c")).unwrap();
        assert_eq!(got, (404, "nope".to_owned()));
        let seen = h.join().unwrap();
        assert!(seen[0].starts_with("GET /a?b=c HTTP/1.0\r\n"), "{seen:?}");
    }

    #[test]
    fn post_form_encodes_fields() {
        let (url, h) = server(vec!["HTTP/1.1 200 OK\r\n\r\n{}"]);
        let got = http_post_form(
            &format!("{url}/api"),
            &[("query", "up{a=\"b c\"}"), ("x", "1")],
        );
        assert_eq!(got.unwrap(), (200, "{}".to_owned()));
        let seen = h.join().unwrap();
        assert!(seen[0].starts_with("POST /api HTTP/1.0\r\n"), "{seen:?}");
        assert!(
            seen[0].ends_with("\r\n\r\nquery=up%7Ba%3D%22b%20c%22%7D&x=1"),
            "{seen:?}"
        );
    }

    #[test]
    fn wait_for_http_polls_until_2xx() {
        let (url, h) = server(vec![
            "HTTP/1.0 503 Service Unavailable\r\n\r\nwait",
            "HTTP/1.0 200 OK\r\n\r\nready",
        ]);
        let body = wait_for_http(&format!("{url}/-/ready"), Duration::from_secs(30)).unwrap();
        assert_eq!(body, "ready");
        assert_eq!(h.join().unwrap().len(), 2);
    }

    #[test]
    fn wait_for_http_gives_up_with_the_last_answer() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", l.local_addr().unwrap());
        drop(l);
        let err = wait_for_http(&url, Duration::ZERO).unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
    }

    #[test]
    fn bad_urls_are_errors() {
        for url in ["https://a:1/", "http://", "http:///x", "http://host/x"] {
            assert!(matches!(http_get(url), Err(Error::BadUrl { .. })), "{url}");
        }
        assert_eq!(split_url("http://a:1").unwrap(), ("a:1", "/"));
    }
}
