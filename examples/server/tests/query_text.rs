//! `format_query` and `parse_query` against the running binary, GET and form POST.

mod common;

use common::{encode, Server};
use serde_json::{json, Value};

#[test]
fn format_and_parse_query_get_and_post() {
    let s = Server::start("", &[]);
    let q = "sum(rate(foo{a=\"b\"}[5m]))by(job)/on(job)group_left bar";
    let (st, v) = s.json(&format!("/api/v1/format_query?query={}", encode(q)));
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v,
        json!({"status":"success","data":"sum by (job) (rate(foo{a=\"b\"}[5m])) / on (job) group_left () bar"})
    );
    // Longer than 100 characters: split at the top operator (checked against Prometheus 2.42).
    let long = "sum by (job, instance, namespace) (rate(http_requests_total{code=~\"5..\", job=\"apiserver\"}[5m])) / on (job) group_left () sum by (job) (rate(http_requests_total[5m]))";
    let (_, v) = s.json(&format!("/api/v1/format_query?query={}", encode(long)));
    assert_eq!(
        v["data"],
        "  sum by (job, instance, namespace) (rate(http_requests_total{code=~\"5..\",job=\"apiserver\"}[5m]))\n/ on (job) group_left ()\n  sum by (job) (rate(http_requests_total[5m]))"
    );
    let (st, body) = s.post_form("/api/v1/format_query", &[("query", "foo/bar")]);
    assert_eq!(
        (st, body.as_str()),
        (200, r#"{"status":"success","data":"foo / bar"}"#)
    );

    let (st, v) = s.json(&format!("/api/v1/parse_query?query={}", encode(q)));
    assert_eq!(st, 200, "{v}");
    let tree = &v["data"];
    assert_eq!(tree["type"], "binaryExpr");
    assert_eq!(tree["op"], "/");
    assert_eq!(
        tree["matching"],
        json!({"card":"many-to-one","include":[],"labels":["job"],"on":true})
    );
    assert_eq!(tree["lhs"]["type"], "aggregation");
    assert_eq!(tree["lhs"]["grouping"], json!(["job"]));
    let sel = &tree["lhs"]["expr"]["args"][0];
    assert_eq!(sel["type"], "matrixSelector");
    assert_eq!(sel["range"], 300_000);
    assert_eq!(
        sel["matchers"],
        json!([{"name":"a","type":"=","value":"b"},{"name":"__name__","type":"=","value":"foo"}])
    );
    assert_eq!(tree["rhs"]["name"], "bar");

    // POST gives the same tree as GET.
    let (st, body) = s.post_form("/api/v1/parse_query", &[("query", q)]);
    assert_eq!(st, 200);
    let post: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(post, v);

    // Errors: bad_data with the parser's message, on both endpoints.
    for ep in ["parse_query", "format_query"] {
        let (st, v) = s.json(&format!("/api/v1/{ep}?query={}", encode("foo{")));
        assert_eq!(st, 400, "{v}");
        assert_eq!(v["errorType"], "bad_data");
        // The parser's own message, passed through.
        let want = kagari_promql::parse("foo{").unwrap_err();
        assert_eq!(v["error"], format!("invalid parameter \"query\": {want}"));
        let (st, v) = s.json(&format!("/api/v1/{ep}"));
        assert_eq!((st, &v["errorType"]), (400, &json!("bad_data")), "{v}");
    }
}
