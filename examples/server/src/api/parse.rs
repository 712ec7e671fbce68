//! `/api/v1/parse_query`: the syntax tree of a query as JSON, for UIs that explain queries.
//!
//! Source of the shape: Prometheus 3.x answers this endpoint from `web/api/v1/translate_ast.go`
//! (not present in the Debian 2.42 peer, which answers 404, so it cannot be checked
//! differentially). The shape written here, from that file's documented behaviour:
//!
//! - every node is an object with a `type` (`aggregation`, `binaryExpr`, `call`,
//!   `matrixSelector`, `subquery`, `numberLiteral`, `parenExpr`, `stringLiteral`, `unaryExpr`,
//!   `vectorSelector`);
//! - Go marshals these maps with their keys sorted, and escapes `<`, `>`, `&`: so do we;
//! - durations (`range`, `offset`, `step`) are integer milliseconds, 0 when absent;
//!   `timestamp` is the `@` time in milliseconds or `null`; `startOrEnd` is `"start"`, `"end"`
//!   or `null`;
//! - a number literal's `val` is a string in Go's `'f'` format (`+Inf`, `-Inf`, `NaN`);
//! - matchers are `{name, type, value}` with the PromQL operator as `type`; the metric-name
//!   matcher of `foo{…}` comes last, as upstream's parser appends it;
//! - a binary expression's `matching` is `null` unless both sides are instant vectors, then
//!   `{card, include, labels, on}` with `card` one of `one-to-one`, `many-to-one`,
//!   `one-to-many`, `many-to-many`;
//! - a call's `func` is `{argTypes, name, returnType, variadic}` with value types `scalar`,
//!   `vector`, `matrix`, `string`.
//!
//! Not covered by upstream's translator, so not emitted: the experimental `fill_left`/`fill_right`
//! modifiers and `anchored`/`smoothed` selector extensions. Duration expressions that depend
//! on `step()`/`range()` are unknown at parse time; their milliseconds are written as 0, as
//! upstream leaves the computed duration unset before evaluation.

use kagari_model::Matcher;
use kagari_promql::{
    AggregateOp, AtModifier, BinaryExpr, Cardinality, DurationExpr, Expr, Grouping, UnaryOp,
    ValueType, VectorSelector,
};

use super::json::{push_str, push_str_array};

/// A JSON object whose members are written in sorted key order (as Go's `encoding/json`
/// writes maps).
#[derive(Default)]
struct Obj {
    members: Vec<(&'static str, String)>,
}

impl Obj {
    fn raw(mut self, key: &'static str, json: String) -> Self {
        self.members.push((key, json));
        self
    }

    fn str(self, key: &'static str, value: &str) -> Self {
        let mut s = String::new();
        push_str(&mut s, value);
        self.raw(key, s)
    }

    fn finish(mut self, out: &mut String) {
        self.members.sort_by_key(|(k, _)| *k);
        out.push('{');
        for (i, (k, v)) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_str(out, k);
            out.push(':');
            out.push_str(v);
        }
        out.push('}');
    }
}

fn node(e: &Expr, query: &str) -> String {
    let mut out = String::new();
    push_node(&mut out, e, query);
    out
}

fn value_type(t: ValueType) -> &'static str {
    match t {
        ValueType::Scalar => "scalar",
        ValueType::Vector => "vector",
        ValueType::Matrix => "matrix",
        ValueType::String => "string",
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
fn go_float_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        // Rust's `Display` for f64 is the shortest round-trip digits without an exponent,
        // which is what Go's 'f' with precision -1 prints.
        format!("{v}")
    }
}

fn millis(d: Option<&DurationExpr>) -> String {
    d.and_then(DurationExpr::constant_millis)
        .unwrap_or(0)
        .to_string()
}

fn at_fields(obj: Obj, at: Option<AtModifier>) -> Obj {
    let (ts, soe) = match at {
        None => ("null".to_string(), "null".to_string()),
        Some(AtModifier::Timestamp(ms)) => (ms.to_string(), "null".to_string()),
        Some(AtModifier::Start) => ("null".to_string(), "\"start\"".to_string()),
        Some(AtModifier::End) => ("null".to_string(), "\"end\"".to_string()),
    };
    obj.raw("timestamp", ts).raw("startOrEnd", soe)
}

fn push_matcher(out: &mut String, m: &Matcher) {
    Obj::default()
        .str("name", m.name())
        .str("type", m.match_type().as_str())
        .str("value", m.value())
        .finish(out);
}

/// The selector's name as upstream's parser records it (only for a name written before the
/// braces), and its matchers in upstream's order (that name's matcher last).
fn selector_fields(obj: Obj, vs: &VectorSelector, query: &str) -> Obj {
    let outside = query
        .get(vs.span.start..)
        .is_some_and(|rest| !rest.starts_with('{'));
    let name = vs.name.as_deref().filter(|_| outside).unwrap_or("");
    let is_name_matcher = |m: &Matcher| {
        !name.is_empty()
            && m.name() == "__name__"
            && m.value() == name
            && m.match_type() == kagari_model::MatchType::Equal
    };
    let mut ms = String::from("[");
    let mut first = true;
    let mut name_matcher = None;
    for m in &vs.matchers {
        if name_matcher.is_none() && is_name_matcher(m) {
            name_matcher = Some(m);
            continue;
        }
        if !first {
            ms.push(',');
        }
        first = false;
        push_matcher(&mut ms, m);
    }
    if let Some(m) = name_matcher {
        if !first {
            ms.push(',');
        }
        push_matcher(&mut ms, m);
    }
    ms.push(']');
    at_fields(
        obj.str("name", name)
            .raw("matchers", ms)
            .raw("offset", millis(vs.offset.as_ref())),
        vs.at,
    )
}

fn string_list<S: AsRef<str>>(items: &[S]) -> String {
    let mut s = String::new();
    push_str_array(&mut s, items);
    s
}

fn binary(b: &BinaryExpr, query: &str) -> Obj {
    let matching = match &b.matching {
        None => "null".to_string(),
        Some(m) => {
            let card = match m.card {
                Cardinality::OneToOne => "one-to-one",
                Cardinality::ManyToOne => "many-to-one",
                Cardinality::OneToMany => "one-to-many",
                Cardinality::ManyToMany => "many-to-many",
            };
            let mut s = String::new();
            Obj::default()
                .str("card", card)
                .raw("include", string_list(&m.include))
                .raw("labels", string_list(&m.labels))
                .raw("on", m.on.to_string())
                .finish(&mut s);
            s
        }
    };
    Obj::default()
        .str("type", "binaryExpr")
        .str("op", b.op.as_str())
        .raw("lhs", node(&b.lhs, query))
        .raw("rhs", node(&b.rhs, query))
        .raw("matching", matching)
        .raw("bool", b.return_bool.to_string())
}

/// Appends the JSON tree of `e`; `query` is the text it was parsed from (for spans).
pub(crate) fn push_node(out: &mut String, e: &Expr, query: &str) {
    let obj = match e {
        Expr::Aggregate(a) => {
            let (grouping, without) = match &a.grouping {
                Grouping::By(l) => (l, false),
                Grouping::Without(l) => (l, true),
            };
            let op: AggregateOp = a.op;
            Obj::default()
                .str("type", "aggregation")
                .str("op", op.as_str())
                .raw("expr", node(&a.expr, query))
                .raw(
                    "param",
                    a.param
                        .as_deref()
                        .map_or_else(|| "null".to_string(), |p| node(p, query)),
                )
                .raw("grouping", string_list(grouping))
                .raw("without", without.to_string())
        }
        Expr::Binary(b) => binary(b, query),
        Expr::Call(c) => {
            let mut args = String::from("[");
            for (i, a) in c.args.iter().enumerate() {
                if i > 0 {
                    args.push(',');
                }
                push_node(&mut args, a, query);
            }
            args.push(']');
            let types: Vec<&str> = c.func.arg_types.iter().map(|t| value_type(*t)).collect();
            let mut func = String::new();
            Obj::default()
                .str("name", c.func.name)
                .raw("argTypes", string_list(&types))
                .raw("variadic", c.func.variadic.to_string())
                .str("returnType", value_type(c.func.return_type))
                .finish(&mut func);
            Obj::default()
                .str("type", "call")
                .raw("func", func)
                .raw("args", args)
        }
        Expr::MatrixSelector(m) => selector_fields(
            Obj::default()
                .str("type", "matrixSelector")
                .raw("range", millis(Some(&m.range))),
            &m.vector,
            query,
        ),
        Expr::Subquery(s) => at_fields(
            Obj::default()
                .str("type", "subquery")
                .raw("expr", node(&s.expr, query))
                .raw("range", millis(Some(&s.range)))
                .raw("offset", millis(s.offset.as_ref()))
                .raw("step", millis(s.step.as_ref())),
            s.at,
        ),
        Expr::Number(n) => Obj::default()
            .str("type", "numberLiteral")
            .str("val", &go_float_f(n.value)),
        Expr::Paren(p) => Obj::default()
            .str("type", "parenExpr")
            .raw("expr", node(&p.expr, query)),
        Expr::String(s) => Obj::default()
            .str("type", "stringLiteral")
            .str("val", &s.value),
        Expr::Unary(u) => Obj::default()
            .str("type", "unaryExpr")
            .str(
                "op",
                match u.op {
                    UnaryOp::Neg => "-",
                    UnaryOp::Pos => "+",
                },
            )
            .raw("expr", node(&u.expr, query)),
        Expr::VectorSelector(vs) => {
            selector_fields(Obj::default().str("type", "vectorSelector"), vs, query)
        }
    };
    obj.finish(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(q: &str) -> serde_json::Value {
        let e = kagari_promql::parse(q).unwrap();
        let mut s = String::new();
        push_node(&mut s, &e, q);
        serde_json::from_str(&s).unwrap_or_else(|err| panic!("{err}: {s}"))
    }

    fn raw(q: &str) -> String {
        let e = kagari_promql::parse(q).unwrap();
        let mut s = String::new();
        push_node(&mut s, &e, q);
        s
    }

    #[test]
    fn selector_keys_are_sorted_and_name_matcher_last() {
        assert_eq!(
            raw("foo{a=\"b\"}"),
            r#"{"matchers":[{"name":"a","type":"=","value":"b"},{"name":"__name__","type":"=","value":"foo"}],"name":"foo","offset":0,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"}"#
        );
        let v = tree("{__name__=~\"x.*\"} offset -5m @ 1.5");
        assert_eq!(v["name"], "");
        assert_eq!(v["offset"], -300_000);
        assert_eq!(v["timestamp"], 1500);
        assert_eq!(v["matchers"][0]["type"], "=~");
        assert_eq!(tree("foo @ start()")["startOrEnd"], "start");
        assert_eq!(tree("foo @ end()")["timestamp"], serde_json::Value::Null);
    }

    #[test]
    fn matrix_subquery_and_call() {
        let v = tree("rate(foo[5m] offset 1m)");
        assert_eq!(v["type"], "call");
        assert_eq!(
            v["func"],
            serde_json::json!({"argTypes":["matrix"],"name":"rate","returnType":"vector","variadic":0})
        );
        assert_eq!(v["args"][0]["type"], "matrixSelector");
        assert_eq!(v["args"][0]["range"], 300_000);
        assert_eq!(v["args"][0]["offset"], 60_000);
        let v = tree("max_over_time(foo[1h:])");
        assert_eq!(v["args"][0]["type"], "subquery");
        assert_eq!(v["args"][0]["step"], 0);
        assert_eq!(v["args"][0]["range"], 3_600_000);
        assert_eq!(v["args"][0]["expr"]["type"], "vectorSelector");
        let v = tree("label_join(foo, \"a\", \",\", \"b\", \"c\")");
        assert_eq!(v["func"]["variadic"], -1);
        assert_eq!(
            v["args"][1],
            serde_json::json!({"type":"stringLiteral","val":"a"})
        );
        assert_eq!(tree("time()")["func"]["argTypes"], serde_json::json!([]));
    }

    #[test]
    fn binary_matching_and_aggregation() {
        let v = tree("a / on(x) group_left(y) b");
        assert_eq!(
            v["matching"],
            serde_json::json!({"card":"many-to-one","include":["y"],"labels":["x"],"on":true})
        );
        assert_eq!(v["op"], "/");
        assert_eq!(v["bool"], false);
        let v = tree("a > bool 1");
        assert_eq!(v["matching"], serde_json::Value::Null);
        assert_eq!(v["bool"], true);
        assert_eq!(tree("a and b")["matching"]["card"], "many-to-many");
        assert!(raw("a < b").contains(r#""op":"\u003c""#));
        let v = tree("topk without (a) (3, foo)");
        assert_eq!(v["type"], "aggregation");
        assert_eq!(v["without"], true);
        assert_eq!(v["grouping"], serde_json::json!(["a"]));
        assert_eq!(
            v["param"],
            serde_json::json!({"type":"numberLiteral","val":"3"})
        );
        let v = tree("sum(foo)");
        assert_eq!(v["grouping"], serde_json::json!([]));
        assert_eq!(v["param"], serde_json::Value::Null);
    }

    #[test]
    fn literals_unary_and_parens() {
        assert_eq!(tree("1e21")["val"], "1000000000000000000000");
        assert_eq!(tree("-Inf")["val"], "-Inf");
        assert_eq!(tree("NaN")["val"], "NaN");
        assert_eq!(tree("0.5")["val"], "0.5");
        let v = tree("-(foo)");
        assert_eq!(v["type"], "unaryExpr");
        assert_eq!(v["op"], "-");
        assert_eq!(v["expr"]["type"], "parenExpr");
    }
}
