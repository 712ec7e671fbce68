//! Alert templates against Go: every expected string below was produced by real
//! `promtool test rules` (Prometheus 2.42, Go `text/template`) on the same template, the same
//! sample `m{instance="db-1.example.com:9100", job="node"} = 0.0734`, external label
//! `region="eu-west"` and external URL `http://prom:9090/prefix` (promtool passed with these
//! as `exp_annotations`).

use kagari_alerting::{expand_alert_template, AlertTemplateData, Context};
use kagari_model::Labels;

const CASES: &[(&str, &str)] = &[
    (r#"{{ $value }}"#, r#"0.0734"#),
    (r#"{{ $value | humanize }}"#, r#"73.4m"#),
    (r#"{{ humanize 1234567 }}"#, r#"1.235M"#),
    (r#"{{ humanize 0.000123 }}"#, r#"123u"#),
    (r#"{{ humanize1024 123456789 }}"#, r#"117.7Mi"#),
    (r#"{{ humanizeDuration 90061.5 }}"#, r#"1d 1h 1m 1s"#),
    (r#"{{ humanizeDuration 0.0123 }}"#, r#"12.3ms"#),
    (r#"{{ humanizePercentage 0.1234 }}"#, r#"12.34%"#),
    (
        r#"{{ humanizeTimestamp 1600000000.5 }}"#,
        r#"2020-09-13 12:26:40.5 +0000 UTC"#,
    ),
    (
        r#"{{ printf "%.2f|%5.1f|%-4d|%05d|%x|%X|%q|%v|%e|%g|%s" 3.14159 2.25 42 -42 255 255 "a\"b" 1e6 123456.0 0.000012 "s" }}"#,
        r#"3.14|  2.2|42  |-0042|ff|FF|"a\"b"|1e+06|1.234560e+05|1.2e-05|s"#,
    ),
    (
        r#"{{ printf "%d %s" 1.5 2 }}"#,
        r#"%!d(float64=1.5) %!s(int=2)"#,
    ),
    (r#"{{ printf "%d" 1 2 }}"#, r#"1%!(EXTRA int=2)"#),
    (r#"{{ printf "%d %d" 1 }}"#, r#"1 %!d(MISSING)"#),
    (r#"{{ print 1 2 "a" 3 true }}"#, r#"1 2a3 true"#),
    (
        r#"{{ $labels }}"#,
        r#"map[__name__:m instance:db-1.example.com:9100 job:node]"#,
    ),
    (
        r#"{{ len $labels }} {{ index $labels "job" }}"#,
        r#"3 node"#,
    ),
    (
        r#"{{ if gt $value 0.05 }}warn{{ else if gt $value 0.01 }}crit{{ else }}x{{ end }}"#,
        r#"warn"#,
    ),
    (
        r#"{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}"#,
        r#"__name__=m;instance=db-1.example.com:9100;job=node;"#,
    ),
    (
        r#"{{ $labels.instance | stripPort }} {{ $labels.instance | stripDomain }} {{ stripPort "[::1]:9090" }}"#,
        r#"db-1.example.com db-1:9100 ::1"#,
    ),
    (
        r#"{{ reReplaceAll "(\\w+)-(\\d)" "${2}_$1" $labels.instance }}"#,
        r#"1_db.example.com:9100"#,
    ),
    (
        r#"{{ match "^db" $labels.instance }} {{ title "hello wORLD foo_bar x-y" }} {{ toUpper "abc" }}"#,
        r#"true Hello WORLD Foo_bar X-Y ABC"#,
    ),
    (
        r#"{{ html "<a href='x'>&\"" }} {{ js "a'b<>&=\"\n" }} {{ urlquery "a b&c/d" }}"#,
        r#"&lt;a href=&#39;x&#39;&gt;&amp;&#34; a\'b\u003C\u003E\u0026\u003D\"\u000A a+b%26c%2Fd"#,
    ),
    (
        r#"{{ graphLink "up == 0" }} {{ tableLink "rate(x[5m])" }}"#,
        r#"/graph?g0.expr=up+%3D%3D+0&g0.tab=0 /graph?g0.expr=rate%28x%5B5m%5D%29&g0.tab=1"#,
    ),
    (
        r#"{{ parseDuration "1h30m" }} {{ (toTime 1600000000).Format "Mon Jan _2 15:04:05 2006" }} {{ toTime 1600000000 }}"#,
        r#"5400 Sun Sep 13 12:26:40 2020 2020-09-13 12:26:40 +0000 UTC"#,
    ),
    (
        r#"{{ 1e3 }} {{ 0x10 }} {{ 'a' }} {{ -2.5 }} {{ 1.0 }} {{ 100000000.0 }}"#,
        r#"1000 16 97 -2.5 1 1e+08"#,
    ),
    (
        r#"{{ and 1 0 }} {{ or 0 "" "x" }} {{ not 0 }} {{ eq 1 2 3 1 }} {{ ne "a" "b" }} {{ le 1.5 1.5 }}"#,
        r#"0 x true true true true"#,
    ),
    (
        r#"{{- /* comment */ -}}   trimmed   {{- " x " -}}   end"#,
        r#"trimmed x end"#,
    ),
    (
        r#"{{ define "t" }}[{{ .arg0 }}-{{ .arg1 }}]{{ end }}{{ template "t" (args 1 "x") }}"#,
        r#"[1-x]"#,
    ),
    (
        r#"{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }} {{ with $y := "w" }}{{ $y }}{{ end }}"#,
        r#"2 w"#,
    ),
    (
        r#"{{ printf "%v %v %v %v" 0.1 1e-5 123456789.0 1e21 }}"#,
        r#"0.1 1e-05 1.23456789e+08 1e+21"#,
    ),
    (
        r#"{{ printf "%8.3f|%+.1e|%G|%.3g|%#x|%o|%b|%c|%U" 3.14159 12345.678 1e-7 1234.5678 255 8 5 65 65 }}"#,
        r#"   3.142|+1.2e+04|1E-07|1.23e+03|0xff|10|101|A|U+0041"#,
    ),
    (
        r#"{{ printf "%t %v %s" true nil $labels.nope }}"#,
        r#"true <nil> "#,
    ),
    (
        r#"{{ humanize "1e3" }} {{ humanizeDuration 59.99 }} {{ humanizeDuration -90 }} {{ humanize -0.0000025 }}"#,
        r#"1k 59.99s -1m 30s -2.5u"#,
    ),
    (
        r#"{{ $externalURL }} {{ $externalLabels.region }}"#,
        r#"http://prom:9090/prefix eu-west"#,
    ),
    (
        r#"{{ slice "abcdef" 1 3 }} {{ index (args "p" "q") "arg1" }} {{ len (args 1 2) }}"#,
        r#"bc q 2"#,
    ),
    (
        r#"{{ printf "%6s|%-6s|%.2s" "ab" "cd" "xyz" }}"#,
        r#"    ab|cd    |xy"#,
    ),
    (
        r#"{{ humanizePercentage 1 }} {{ humanize1024 1 }} {{ humanize 999.99 }}"#,
        r#"100% 1 1000"#,
    ),
    (
        r#"{{ humanize "x" }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <humanize "x">: error calling humanize: strconv.ParseFloat: parsing "x": invalid syntax>"#,
    ),
    (
        r#"{{ gt $value 1 }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <gt $value 1>: error calling gt: incompatible types for comparison>"#,
    ),
    (
        r#"{{ index $labels 1 }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <index $labels 1>: error calling index: value has type int; should be string>"#,
    ),
    (
        r#"{{ parseDuration "x" }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <parseDuration "x">: error calling parseDuration: not a valid duration string: "x">"#,
    ),
    (
        r#"{{ printf "%s" (humanize "y") }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:128: executing "__alert_T" at <humanize "y">: error calling humanize: strconv.ParseFloat: parsing "y": invalid syntax>"#,
    ),
    (
        r#"{{ len 3 }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <len 3>: error calling len: len of type int>"#,
    ),
    (
        r#"{{ range 1.5 }}{{ end }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:121: executing "__alert_T" at <1.5>: range can't iterate over 1.5>"#,
    ),
    (
        r#"{{ with $labels.nope }}yes{{ else }}no{{ end }} {{ range $labels.nope }}x{{ else }}empty{{ end }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:176: executing "__alert_T" at <$labels.nope>: range can't iterate over >"#,
    ),
    (
        r#"{{ define "x" }}{{ $ }}/{{ . }}{{ end }}{{ template "x" 5 }} {{ template "x" }}"#,
        r#"5/5 <no value>/<no value>"#,
    ),
    (
        r#"{{ printf "%s" $labels }} {{ printf "%d" $value }} {{ "a" | printf "%s-%s" "b" }}"#,
        r#"map[__name__:m instance:db-1.example.com:9100 job:node] %!d(float64=0.0734) b-a"#,
    ),
    (
        r#"{{ printf "%q|%5t|%-7v|" 65 true 1.5 }}{{ printf "%08.3f|% d|%+.2e" -3.14159 5 -0.000123 }}"#,
        r#"'A'| true|1.5    |-003.142| 5|-1.23e-04"#,
    ),
    (
        r#"{{ printf "%x|%10.4v|%X" -255 3.14159265 "hi" }}"#,
        r#"-ff|     3.142|6869"#,
    ),
    (
        r#"{{ humanize 1e-30 }} {{ humanize1024 -1 }} {{ humanizeDuration 0.5 }} {{ humanizeDuration 1e-10 }}"#,
        r#"1e-06y -1 500ms 100ps"#,
    ),
    (
        r#"{{ humanizePercentage "0.5" }} {{ humanizeTimestamp 0 }} {{ humanizeTimestamp -1.5 }} {{ (toTime 1.6e9).Unix }}"#,
        r#"50% 1970-01-01 00:00:00 +0000 UTC 1969-12-31 23:59:58.5 +0000 UTC 1600000000"#,
    ),
    (
        r#"{{ title "élan vital" }} {{ toUpper "straße" }} {{ urlquery "é ~" }} {{ js "é" }}"#,
        r#"Élan Vital STRAßE %C3%A9+~ é"#,
    ),
    (
        r#"{{ reReplaceAll "a(?P<n>b)" "${n}x" "abab" }} {{ stripDomain "[::1]:80" }} {{ stripDomain "a.b" }} {{ stripPort "a:b:c" }}"#,
        r#"bxbx [::1]:80 a a:b:c"#,
    ),
    (
        r#"{{ parseDuration "1d" }} {{ parseDuration "1h0m30s" }} {{ eq "a" "a" "b" }} {{ lt "a" "b" }} {{ eq true true }}"#,
        r#"86400 3630 true true true"#,
    ),
    (
        r#"{{ 1.5e300 }} {{ 0.000001 }} {{ 1e20 }} {{ 123456789012 }} {{ -0.0 }} {{ 0.1e1 }}"#,
        r#"1.5e+300 1e-06 1e+20 123456789012 -0 1"#,
    ),
    (
        r#"{{ slice $labels.instance 0 4 }} {{ len (args) }} {{ index (args 1 2) "arg5" }} {{ print nil }}"#,
        r#"db-1 0 <no value> <nil>"#,
    ),
    (
        r#"{{- range $i, $e := args "a" "b" -}} [{{ $i }}:{{ $e }}] {{- end }}"#,
        r#"[arg0:a][arg1:b]"#,
    ),
    (
        r#"{{ $a := 1 }}{{ $b := "x" }}{{ print $a $b $a $a }} {{ println }}|"#,
        "1x1 1 \n|",
    ),
    (
        r#"{{ if and (gt $value 0.01) (lt $value 1.0) }}in{{ end }} {{ not (eq $labels.job "node") }}"#,
        r#"in false"#,
    ),
    (
        r#"{{ humanize 1e300 }} {{ humanizeDuration 1e12 }} {{ humanize1024 1e30 }}"#,
        r#"1e+276Y 11574074d 1h 46m 40s 8.272e+05Yi"#,
    ),
    (
        r#"{{ printf "%v %v" (toTime 0) (args 1) }}"#,
        r#"1970-01-01 00:00:00 +0000 UTC map[arg0:1]"#,
    ),
    (
        r#"{{ eq 1 1.0 }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <eq 1 1.0>: error calling eq: incompatible types for comparison>"#,
    ),
    (
        r#"{{ match "[" "x" }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <match "[" "x">: error calling match: error parsing regexp: missing closing ]: `[`>"#,
    ),
    (
        r#"{{ parseDuration "1.5h" }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <parseDuration "1.5h">: error calling parseDuration: not a valid duration string: "1.5h">"#,
    ),
    (
        r#"{{ index $labels }}"#,
        r#"map[__name__:m instance:db-1.example.com:9100 job:node]"#,
    ),
    (
        r#"{{ len $value }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <len $value>: error calling len: len of type float64>"#,
    ),
    (
        r#"{{ match "[" "x" }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <match "[" "x">: error calling match: error parsing regexp: missing closing ]: `[`>"#,
    ),
    (
        r#"{{ match "a[b" "x" }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <match "a[b" "x">: error calling match: error parsing regexp: missing closing ]: `[b`>"#,
    ),
    (
        r#"{{ match "(a" "x" }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <match "(a" "x">: error calling match: error parsing regexp: missing closing ): `(a`>"#,
    ),
    (
        r#"{{ match "a)" "x" }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <match "a)" "x">: error calling match: error parsing regexp: unexpected ): `a)`>"#,
    ),
    (
        r#"{{ match "*a" "x" }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <match "*a" "x">: error calling match: error parsing regexp: missing argument to repetition operator: `*`>"#,
    ),
    (
        r#"{{ reReplaceAll "a(b" "" "x" }}"#,
        r#"<error expanding template: error executing template __alert_T: template: __alert_T:1:115: executing "__alert_T" at <reReplaceAll "a(b" "" "x">: error calling reReplaceAll: regexp: Compile(`a(b`): error parsing regexp: missing closing ): `a(b`>"#,
    ),
    (
        r#"{{ printf "%s|%d" (args "x" 1) (args 2) }}"#,
        r#"map[arg0:x arg1:%!s(int=1)]|map[%!d(string=arg0):2]"#,
    ),
];

#[test]
fn templates_match_go() {
    let data = AlertTemplateData {
        labels: Labels::from_pairs([
            ("__name__", "m"),
            ("instance", "db-1.example.com:9100"),
            ("job", "node"),
        ])
        .unwrap(),
        external_labels: Labels::from_pairs([("region", "eu-west")]).unwrap(),
        external_url: "http://prom:9090/prefix".into(),
        value: 0.0734,
    };
    let ctx = Context {
        ts_ms: 0,
        external_url: "http://prom:9090/prefix",
        query: None,
    };
    let mut failures = Vec::new();
    for (tmpl, want) in CASES {
        let got = expand_alert_template("T", tmpl, &data, &ctx);
        if got != *want {
            failures.push(format!("{tmpl}\n  want: {want}\n   got: {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
