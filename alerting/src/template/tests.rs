use super::*;

struct FakeQuery;

impl QueryFn for FakeQuery {
    fn query(
        &self,
        q: &str,
        _ts: i64,
    ) -> Result<Vec<(Labels, f64)>, Box<dyn std::error::Error + Send + Sync>> {
        let l = |i: &str| {
            Labels::from_pairs([("__name__", "up"), ("instance", i), ("job", "node")]).unwrap()
        };
        match q {
            "up" => Ok(vec![(l("b:1"), 1.0), (l("a:1"), 0.0)]),
            "sum(up)" => Ok(vec![(Labels::empty(), 3.0)]),
            "none" => Ok(vec![]),
            _ => Err("bad query".into()),
        }
    }
}

fn data() -> AlertTemplateData {
    AlertTemplateData {
        labels: Labels::from_pairs([
            ("__name__", "node_filesystem_avail_ratio"),
            ("instance", "db-1:9100"),
            ("mountpoint", "/data"),
        ])
        .unwrap(),
        external_labels: Labels::from_pairs([("region", "eu-west")]).unwrap(),
        external_url: "http://prom:9090".into(),
        value: 0.0734,
    }
}

fn expand(text: &str) -> String {
    let ctx = Context {
        ts_ms: 1_600_000_000_000,
        external_url: "http://prom:9090/prefix",
        query: Some(&FakeQuery),
    };
    expand_alert_template("A", text, &data(), &ctx)
}

fn run(text: &str, data: &Value) -> Result<String, TemplateError> {
    let ctx = Context {
        ts_ms: 0,
        external_url: "",
        query: Some(&FakeQuery),
    };
    Template::parse("t", text)?.execute(data, &ctx)
}

#[test]
fn reference_examples() {
    for (t, want) in [
        (
            "{{ $labels.instance }} low on {{ $labels.mountpoint }}",
            "db-1:9100 low on /data",
        ),
        ("{{ $value }}", "0.0734"),
        ("{{ $value | humanizePercentage }}", "7.34%"),
        ("{{ $value | printf \"%.1f\" }}", "0.1"),
        ("{{ printf \"%.3f\" $value }}", "0.073"),
        ("{{ $externalLabels.region }}", "eu-west"),
        ("{{ .Labels.nonexistent }}", ""),
        ("{{ $labels.instance | stripPort | toUpper }}", "DB-1"),
        ("{{ if gt $value 0.05 }}warn{{ else }}crit{{ end }}", "warn"),
        (
            "{{ $externalURL }}{{ graphLink \"node_filesystem_avail_ratio < 0.1\" }}",
            "http://prom:9090/graph?g0.expr=node_filesystem_avail_ratio+%3C+0.1&g0.tab=0",
        ),
    ] {
        assert_eq!(expand(t), want, "{t}");
    }
}

#[test]
fn actions_and_control_flow() {
    for (t, want) in [
        ("a {{- \" b \" -}} c", "a b c"),
        ("a  {{- /* comment */ -}}  b", "ab"),
        ("x{{/* c */}}y", "xy"),
        ("{{ if eq 1 2 }}a{{ else if eq 2 2 }}b{{ else }}c{{ end }}", "b"),
        ("{{ if and 1 0 }}a{{ else }}b{{ end }}", "b"),
        ("{{ or 0 \"\" \"x\" }}", "x"),
        ("{{ and 1 2 }}", "2"),
        ("{{ not true }}", "false"),
        ("{{ range $i, $v := query \"up\" }}{{ $i }}={{ $v.Labels.instance }},{{ end }}", "0=b:1,1=a:1,"),
        ("{{ range query \"none\" }}x{{ else }}empty{{ end }}", "empty"),
        ("{{ range (query \"up\" | sortByLabel \"instance\") }}{{ .Labels.instance }} {{ end }}", "a:1 b:1 "),
        ("{{ with query \"sum(up)\" }}{{ . | first | value }}{{ end }}", "3"),
        ("{{ query \"up\" | first | label \"job\" }}", "node"),
        ("{{ query \"up\" | first | strvalue }}", ""),
        ("{{ with $x := 5 }}{{ $x }}{{ end }}", "5"),
        ("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", "2"),
        ("{{ define \"t\" }}[{{ .arg0 }}-{{ .arg1 }}]{{ end }}{{ template \"t\" (args 1 \"x\") }}", "[1-x]"),
        ("{{ range $i, $v := args 1 2 3 }}{{ $i }}{{ end }}", "arg0arg1arg2"),
        ("{{ len \"abc\" }} {{ len $labels }}", "3 3"),
        ("{{ index $labels \"instance\" }}", "db-1:9100"),
        ("{{ print 1 2 \"a\" 3 }}", "1 2a3"),
        ("{{ println \"a\" 1 }}", "a 1\n"),
        ("{{ html \"<a href='x'>\" }}", "&lt;a href=&#39;x&#39;&gt;"),
        ("{{ js \"a'b<\" }}", "a\\'b\\u003C"),
        ("{{ urlquery \"a b&c\" }}", "a+b%26c"),
        ("{{ \"hello wORLD\" | title }}", "Hello WORLD"),
        ("{{ toLower \"ABC\" }}", "abc"),
        ("{{ reReplaceAll \"(.*):.*\" \"$1\" \"host:9100\" }}", "host"),
        ("{{ match \"^ba\" \"bar\" }}", "true"),
        ("{{ stripPort \"[::1]:9090\" }} {{ stripPort \"db\" }}", "::1 db"),
        ("{{ stripDomain \"web1.example.com:9100\" }} {{ stripDomain \"web1.example.com\" }} {{ stripDomain \"10.0.0.1:9100\" }}", "web1:9100 web1 10.0.0.1:9100"),
        ("{{ parseDuration \"1h30m\" }} {{ parseDuration \"-5m\" }}", "5400 -300"),
        ("{{ externalURL }} {{ pathPrefix }}", "http://prom:9090/prefix /prefix"),
        ("{{ (toTime 1600000000).Format \"2006-01-02\" }}", "2020-09-13"),
        ("{{ toTime 1600000000 }}", "2020-09-13 12:26:40 +0000 UTC"),
        ("{{ 1600000000 | humanizeTimestamp }}", "2020-09-13 12:26:40 +0000 UTC"),
        ("{{ toDuration 90 }}", "1m30s"),
        ("{{ now }}", "1.6e+09"),
        ("{{ \"1234\" | humanize }}", "1.234k"),
        ("{{ humanize1024 1536 }}", "1.5ki"),
        ("{{ humanizeDuration 3661 }}", "1h 1m 1s"),
        ("{{ safeHtml \"<b>\" }}", "<b>"),
        ("{{ urlQueryEscape \"a b&c\" }}", "a+b%26c"),
        ("{{ tableLink \"up\" }}", "/graph?g0.expr=up&g0.tab=1"),
        ("{{ range $i, $e := args 1 2 3 }}{{ if eq $i \"arg1\" }}{{ break }}{{ end }}{{ $e }}{{ end }}", "1"),
        ("{{ range args 1 2 3 }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ . }}{{ end }}", "13"),
        ("{{ 'a' }} {{ 0x10 }} {{ 1e3 }} {{ -2.5 }}", "97 16 1000 -2.5"),
        ("{{ printf \"%d%%\" 5 }}", "5%"),
        ("{{ block \"b\" . }}blk{{ end }}", "blk"),
        ("{{ $labels }}", "map[__name__:node_filesystem_avail_ratio instance:db-1:9100 mountpoint:/data]"),
    ] {
        assert_eq!(expand(t), want, "{t}");
    }
}

#[test]
fn plain_templates() {
    let d = Value::string_map([("a", "1")]);
    assert_eq!(run("{{ .a }}{{ .b }}", &d).unwrap(), "1");
    assert_eq!(run("{{ $ }}", &Value::Int(3)).unwrap(), "3");
    assert_eq!(run("{{ . }}", &Value::Nil).unwrap(), "<no value>");
    let m = exec::any_map([("x".to_string(), Value::Int(1))]);
    assert_eq!(run("{{ .y }}", &m).unwrap(), "<no value>");
}

#[test]
fn parse_errors() {
    for (t, want) in [
        (
            "{{ foo }}",
            "template: __alert_A:1: function \"foo\" not defined",
        ),
        ("{{ if }}", "template: __alert_A:1: missing value for if"),
        ("{{ end }}", "template: __alert_A:1: unexpected {{end}}"),
        ("{{ if 1 }}", "template: __alert_A:1: unexpected EOF"),
        (
            "a\n{{ $undefined }}",
            "template: __alert_A:2: undefined variable \"$undefined\"",
        ),
        (
            "{{ \"abc }}",
            "template: __alert_A:1: unterminated quoted string",
        ),
        ("{{ 1 ", "template: __alert_A:1: unclosed action"),
    ] {
        assert_eq!(
            check_alert_template("A", t).unwrap_err().to_string(),
            want,
            "{t}"
        );
    }
    assert!(check_alert_template("A", "{{ $labels.x }} {{ $value | humanize }}").is_ok());
}

#[test]
fn exec_errors() {
    let prefix = ALERT_TEMPLATE_DEFS.len();
    assert_eq!(
        expand("{{ humanize \"x\" }}"),
        format!(
            "<error expanding template: error executing template __alert_A: template: __alert_A:1:{}: executing \"__alert_A\" at <humanize \"x\">: error calling humanize: strconv.ParseFloat: parsing \"x\": invalid syntax>",
            prefix + 3
        )
    );
    for (t, contains) in [
        (
            "{{ query \"none\" | first }}",
            "error calling first: first() called on vector with no elements",
        ),
        (
            "{{ gt $value 1 }}",
            "error calling gt: incompatible types for comparison",
        ),
        (
            "{{ .Nope }}",
            "can't evaluate field Nope in type struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }",
        ),
        ("{{ query \"bad\" }}", "error calling query: bad query"),
        (
            "{{ parseDuration \"x\" }}",
            "error calling parseDuration: not a valid duration string: \"x\"",
        ),
        (
            "{{ reReplaceAll \"(\" \"\" \"\" }}",
            "error calling reReplaceAll: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`",
        ),
        ("{{ template \"nope\" }}", "no such template \"nope\""),
        (
            "{{ 1.5 | title }}",
            "wrong type for value; expected string; got float64",
        ),
        (
            "{{ define \"r\" }}{{ template \"r\" }}{{ end }}{{ template \"r\" }}",
            "exceeded maximum template depth",
        ),
    ] {
        let got = expand(t);
        assert!(
            got.starts_with("<error expanding template: ") && got.contains(contains),
            "{t}: {got}"
        );
    }
}

#[test]
fn constant_of_wrong_type_is_reported_at_the_constant() {
    // As Go: `template: __alert_A:1:121: executing "__alert_A" at <1.5>: expected string; found 1.5`.
    let got = expand("{{ title 1.5 }}");
    let col = ALERT_TEMPLATE_DEFS.len() + 9;
    assert_eq!(
        got,
        format!("<error expanding template: error executing template __alert_A: template: __alert_A:1:{col}: executing \"__alert_A\" at <1.5>: expected string; found 1.5>")
    );
}
