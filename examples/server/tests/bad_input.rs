//! Bad input against the running binary: malformed PromQL and parameters are 400 `bad_data`
//! with the parser's message, limits are 422 `execution`, deadlines 503 `timeout`, unknown
//! paths 404, and no amount of junk takes the server down.

mod common;
#[path = "../../../promql/tests/parse_error_table/mod.rs"]
mod parse_error_table;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{encode, Server};
use serde_json::Value;

/// Asserts an API error and returns its message.
fn api_error(status: u16, body: &str, want_status: u16, want_type: &str, what: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"));
    assert_eq!(status, want_status, "{what}: {v}");
    assert_eq!(v["status"], "error", "{what}: {v}");
    assert_eq!(v["errorType"], want_type, "{what}: {v}");
    let msg = v["error"].as_str().unwrap_or_default().to_string();
    assert!(!msg.is_empty(), "{what}: {v}");
    msg
}

const MALFORMED: &[&str] = &[
    "up{",
    "sum(up",
    "rate(up)",
    "up[5m",
    "1 +",
    "foo{a=~\"(\"}",
    "sum by (a",
    "\"unterminated",
    "up offset",
    "histogram_quantile(0.9)",
    "nosuchfunction(up)",
    "{}",
    "up @ foo",
    ")",
];

#[test]
fn malformed_promql_is_bad_data_with_the_parser_message() {
    let s = Server::start("", &[]);
    for q in MALFORMED {
        let err = kagari_promql::parse(q).expect_err(q);
        let want = format!("invalid parameter \"query\": {err}");
        let (st, body) = s.get(&format!("/api/v1/query?query={}", encode(q)));
        assert_eq!(api_error(st, &body, 400, "bad_data", q), want, "GET {q}");
        let (st, body) = s.post_form("/api/v1/query", &[("query", q)]);
        assert_eq!(api_error(st, &body, 400, "bad_data", q), want, "POST {q}");
        let (st, body) = s.post_form(
            "/api/v1/query_range",
            &[("query", q), ("start", "0"), ("end", "100"), ("step", "10")],
        );
        assert_eq!(api_error(st, &body, 400, "bad_data", q), want, "range {q}");
    }
}

/// The `error` of an API answer without its `invalid parameter "query": ` prefix, or `None`
/// for a success.
fn query_error(status: u16, body: &str, what: &str) -> Option<String> {
    if status == 200 {
        return None;
    }
    let msg = api_error(status, body, 400, "bad_data", what);
    Some(
        msg.strip_prefix("invalid parameter \"query\": ")
            .unwrap_or(&msg)
            .to_string(),
    )
}

/// The parse-error table (`testdata/promql/parse_errors.txt`) against the real Prometheus
/// 2.42 and our server side by side: Prometheus must still say what the table recorded, and
/// ours must say the same wherever the table has no `3.x=> ` answer (and the 3.x answer
/// there), with the same status and `errorType`.
#[test]
fn parse_errors_match_real_prometheus() {
    kagari_testkit::skip_or_fail!(
        kagari_testkit::peers_run().is_some()
            && std::path::Path::new("/usr/bin/prometheus").exists(),
        "parse_errors_match_real_prometheus",
        "peers/run or /usr/bin/prometheus is missing"
    );
    let peer = kagari_testkit::Peer::start("prometheus", Vec::<String>::new())
        .unwrap_or_else(|e| panic!("could not start the Prometheus peer: {e}"));
    let ours = Server::start("", &[]);
    let cases = parse_error_table::load(&kagari_testkit::workspace_root());
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut wrong = Vec::new();
    for c in &cases {
        let form = [("query", c.query.as_str()), ("time", "0")];
        let (st, body) =
            kagari_testkit::http_post_form(&format!("{}/api/v1/query", peer.url()), &form)
                .unwrap_or_else(|e| panic!("{:?}: {e}", c.query));
        let theirs = query_error(st, &body, &c.query);
        let (st, body) = ours.post_form("/api/v1/query", &form);
        let got = query_error(st, &body, &c.query);
        if theirs != c.v2 {
            wrong.push(format!(
                "line {} {:?}: Prometheus now says {theirs:?}, the table {:?}",
                c.line, c.query, c.v2
            ));
        }
        if got != c.v3 {
            wrong.push(format!(
                "line {} {:?}: ours {got:?}, want {:?} (Prometheus 2.42: {theirs:?})",
                c.line, c.query, c.v3
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} differences:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn malformed_parameters_are_bad_data() {
    let s = Server::start("", &[]);
    let cases: &[(&str, &str)] = &[
        ("/api/v1/query?query=1&time=yesterday", "invalid parameter \"time\""),
        ("/api/v1/query?query=1&time=NaN", "invalid parameter \"time\""),
        ("/api/v1/query?query=1&timeout=soon", "invalid parameter \"timeout\""),
        ("/api/v1/query?query=1&limit=x", "limit"),
        ("/api/v1/query?query=1&lookback_delta=x", "lookback_delta"),
        ("/api/v1/query_range?query=1&start=x&end=1&step=1", "invalid parameter \"start\""),
        ("/api/v1/query_range?query=1&start=0&end=x&step=1", "invalid parameter \"end\""),
        ("/api/v1/query_range?query=1&start=0&end=1&step=abc", "invalid parameter \"step\""),
        ("/api/v1/query_range?query=1&start=0&end=1&step=-5", "zero or negative"),
        ("/api/v1/query_range?query=1&start=0&end=1&step=", "invalid parameter \"step\""),
        ("/api/v1/query_range?query=1&start=0&end=100000&step=1", "11,000 points"),
        ("/api/v1/query_range?query=1&start=2020-01-02T00:00:00Z&end=2020-01-01T00:00:00Z&step=1", "end timestamp must not be before start time"),
        ("/api/v1/series?match[]=up%7B", "parse error"),
        ("/api/v1/labels?match[]=%7B%7D", "match[]"),
        ("/api/v1/label/job/values?start=x", "invalid parameter \"start\""),
        ("/api/v1/query_exemplars?query=up&start=x", "invalid parameter \"start\""),
    ];
    for (path, needle) in cases {
        let (st, body) = s.get(path);
        let msg = api_error(st, &body, 400, "bad_data", path);
        assert!(msg.contains(needle), "{path}: {msg:?} lacks {needle:?}");
    }
}

#[test]
fn too_many_samples_is_422_execution() {
    let s = Server::start("", &["--query.max-samples=20"]);
    // Wait until the server's own /metrics (scraped every second) gave more than 20 series.
    s.wait_for_vector("scrape_samples_scraped > 40");
    let all = encode("{job=\"prometheus\"}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for path in [
        format!("/api/v1/query?query={all}"),
        format!("/api/v1/query?query=count_over_time({all}[1h])"),
        format!(
            "/api/v1/query_range?query={all}&start={}&end={}&step=1",
            now - 60,
            now + 5
        ),
    ] {
        let (st, body) = s.get(&path);
        let msg = api_error(st, &body, 422, "execution", &path);
        assert!(msg.contains("too many samples"), "{path}: {msg}");
    }
    // The limit is per query: a small query still answers.
    let (st, _) = s.get("/api/v1/query?query=1");
    assert_eq!(st, 200);
}

#[test]
fn deadline_is_503_timeout() {
    let s = Server::start("", &["--query.timeout=10ms"]);
    // 2.6 million subquery steps cannot finish in 10 ms; the engine notices the deadline.
    let heavy = encode("sum(count_over_time(vector(1)[30d:1s]))");
    for path in [
        format!("/api/v1/query?query={heavy}&time=0"),
        format!("/api/v1/query_range?query={heavy}&start=0&end=600&step=60"),
    ] {
        let (st, body) = s.get(&path);
        let msg = api_error(st, &body, 503, "timeout", &path);
        assert!(msg.starts_with("query timed out in "), "{msg}");
    }
    // A per-request timeout can only shorten the flag's.
    let (st, body) = s.get(&format!("/api/v1/query?query={heavy}&time=0&timeout=1h"));
    api_error(st, &body, 503, "timeout", "timeout=1h");
    let (st, _) = s.get("/api/v1/query?query=1");
    assert_eq!(st, 200);
}

#[test]
fn unknown_endpoints_are_404() {
    let s = Server::start("", &[]);
    for path in [
        "/api/v1/nope",
        "/api/v2/query?query=1",
        "/api/v1/query/extra",
        "/api/v1/label/job",
        "/api/v1/status",
        "/api/v1/admin/tsdb/snapshot/x",
        "/nope",
        "/-/nope",
    ] {
        assert_eq!(s.get(path).0, 404, "{path}");
        assert_eq!(s.method("POST", path), 404, "POST {path}");
    }
}

/// Sends raw bytes on a fresh connection and reads whatever comes back (maybe nothing).
fn raw(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = c.write_all(bytes);
    let _ = c.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    out
}

/// A deterministic byte generator (xorshift) so failures can be replayed.
struct Junk(u64);

impl Junk {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize, alphabet: &[u8]) -> Vec<u8> {
        (0..n)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize])
            .collect()
    }
}

#[test]
fn junk_does_not_crash_the_server() {
    let s = Server::start("", &[]);
    s.wait_for_vector("up");
    let promql_chars =
        b"abcxyz_:{}()[]<>=!~\"'`,.+-*/%^@ 0123456789mshdwy\\\n\tonbyignoringgroup_left";
    let mut junk = Junk(0x9e37_79b9_7f4a_7c15);
    let endpoints = [
        "/api/v1/query",
        "/api/v1/query_range",
        "/api/v1/series",
        "/api/v1/labels",
        "/api/v1/format_query",
        "/api/v1/parse_query",
        "/federate",
    ];
    for i in 0..400 {
        let len = (junk.next() % 80) as usize;
        let q = String::from_utf8_lossy(&junk.bytes(len, promql_chars)).into_owned();
        let ep = endpoints[i % endpoints.len()];
        let form: Vec<(&str, &str)> = vec![
            ("query", &q),
            ("match[]", &q),
            ("start", "0"),
            ("end", "100"),
            ("step", "1"),
            ("time", "50"),
        ];
        // /federate is GET-only (405 on POST, as upstream).
        let (st, body) = if ep == "/federate" {
            s.get(&format!("{ep}?match[]={}", encode(&q)))
        } else {
            s.post_form(ep, &form)
        };
        assert!([200, 400, 422].contains(&st), "{ep} {q:?}: {st} {body}");
    }
    // Deep nesting up to the parser's limits, and just past them.
    let deep = [
        "sum(".repeat(99) + "up" + &")".repeat(99),
        "(".repeat(150) + "1" + &")".repeat(150),
        "-".repeat(500) + "up",
        "up".to_string() + &" + up".repeat(999),
        "1".to_string() + &" ^ 1".repeat(999),
        "abs(".repeat(120) + "up" + &")".repeat(120),
        "up".to_string() + &"[1m:]".repeat(50),
        {
            let mut q = "up".to_string();
            for _ in 0..10 {
                q = format!("({q}{})", " + up".repeat(999));
            }
            q
        },
    ];
    for q in &deep {
        let (st, body) = s.post_form("/api/v1/query", &[("query", q)]);
        assert!([200, 400, 422].contains(&st), "{}…: {st} {body}", &q[..20]);
    }
    // Raw non-HTTP bytes, truncated requests, absurd headers and a huge URL.
    let all: Vec<u8> = (0..=255).collect();
    for _ in 0..50 {
        let len = (junk.next() % 300) as usize;
        raw(s.port, &junk.bytes(len, &all));
    }
    raw(
        s.port,
        b"GET /api/v1/query?query=up HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\nabc",
    );
    raw(s.port, b"POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    raw(s.port, b"GET /%ff%fe%00 HTTP/1.1\r\nHost: x\r\n\r\n");
    let long = format!(
        "GET /api/v1/query?query={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(1 << 20)
    );
    raw(s.port, long.as_bytes());
    let mut many = String::from("GET /-/healthy HTTP/1.1\r\nHost: x\r\n");
    for i in 0..2000 {
        many.push_str(&format!("X-{i}: {}\r\n", "v".repeat(100)));
    }
    many.push_str("\r\n");
    raw(s.port, many.as_bytes());
    // Invalid percent-encoding and invalid UTF-8 in parameters.
    let (st, _) = s.get("/api/v1/query?query=%ZZ%C3%28");
    assert!([200, 400].contains(&st), "{st}");

    // Still alive and still answering.
    assert_eq!(s.get("/-/healthy").0, 200, "{}", s.log());
    assert_eq!(s.get("/-/ready").0, 200);
    let (st, body) = s.get("/api/v1/query?query=1%2B1&time=4");
    assert_eq!(
        (st, body.as_str()),
        (
            200,
            r#"{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}"#
        )
    );
    s.wait_for_vector("up");
}
