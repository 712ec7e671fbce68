//! `--enable-feature` against the binary: duration expressions are a parse error unless
//! `promql-duration-expr` is given (as Prometheus 3.x), names may be comma lists and repeated,
//! and unknown names are warned about without stopping the server.

mod common;

use common::{encode, Server};

const QUERIES: &[&str] = &["up offset (1h*2)", "rate(up[5m+1m])", "up[1m:(30s+30s)]"];

#[test]
fn duration_expressions_need_the_feature() {
    let s = Server::start("", &[]);
    for q in QUERIES {
        let (status, v) = s.json(&format!("/api/v1/query?query={}", encode(q)));
        assert_eq!(status, 400, "{q}: {v}");
        assert_eq!(v["errorType"], "bad_data", "{q}: {v}");
        // format_query and parse_query parse with the same options.
        let (status, _) = s.json(&format!("/api/v1/format_query?query={}", encode(q)));
        assert_eq!(status, 400, "format_query {q}");
    }
    // Plain durations still parse.
    let (status, v) = s.json(&format!("/api/v1/query?query={}", encode("rate(up[5m])")));
    assert_eq!(status, 200, "{v}");
}

#[test]
fn enabled_features_are_accepted_and_unknown_ones_warned() {
    let s = Server::start(
        "",
        &[
            "--enable-feature=exemplar-storage,promql-duration-expr",
            "--enable-feature=no-such-feature",
        ],
    );
    for q in QUERIES {
        let (status, v) = s.json(&format!("/api/v1/query?query={}", encode(q)));
        assert_eq!(status, 200, "{q}: {v}");
    }
    let (status, v) = s.json(&format!(
        "/api/v1/query?query={}&time=7200",
        encode("last_over_time(vector(time())[1m:1m] offset (1h*2))")
    ));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["result"][0]["value"][1], "0", "{v}");
    let log = s.log();
    assert!(log.contains("Unknown option for --enable-feature"), "{log}");
    assert!(log.contains("no-such-feature"), "{log}");
    assert!(log.contains("promql-duration-expr"), "{log}");
    let (_, f) = s.json("/api/v1/status/flags");
    assert_eq!(
        f["data"]["enable-feature"],
        "exemplar-storage,promql-duration-expr,no-such-feature"
    );
}
