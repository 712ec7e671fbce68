use super::*;

fn errors(content: &str, opts: ParseOptions) -> Vec<String> {
    match parse_rule_file("f.yml", content, &opts) {
        Ok(_) => Vec::new(),
        Err(errs) => errs.iter().map(ToString::to_string).collect(),
    }
}

fn legacy() -> ParseOptions {
    ParseOptions {
        name_validation: NameValidationScheme::Legacy,
        ..ParseOptions::default()
    }
}

const BAD: &str = r#"groups:
  - name: g
    rules:
      - record: job:up
        expr: sum(up
      - record: "a{b}"
        expr: up
        annotations:
          x: y
      - alert: A
        record: b
        expr: up
      - alert: T
        expr: up
        labels:
          sev: '{{ humanizeFoo $value }}'
        annotations:
          s: '{{ if }}'
  - name: g
    rules: []
"#;

#[test]
fn bad_file_matches_promtool() {
    // Expected lines as printed by `promtool check rules` (2.42) for the same file; the
    // braces check and the UTF-8 name scheme are Prometheus 3 additions.
    let want_legacy = [
        r#"f.yml: 5:15: group "g", rule 1, "job:up": could not parse expression: 1:7: parse error: unclosed left parenthesis"#,
        r#"f.yml: 6:17: group "g", rule 2, "a{b}": invalid field 'annotations' in recording rule"#,
        r#"f.yml: 6:17: group "g", rule 2, "a{b}": invalid recording rule name: a{b}"#,
        r#"f.yml: 6:17: group "g", rule 2, "a{b}": braces present in the recording rule name; should it be in expr?: a{b}"#,
        r#"f.yml: 11:17: 10:16: group "g", rule 3, "A": only one of 'record' and 'alert' must be set"#,
        r#"f.yml: group "g", rule 4, "T": label "sev": template: __alert_T:1: function "humanizeFoo" not defined"#,
        r#"f.yml: group "g", rule 4, "T": annotation "s": template: __alert_T:1: missing value for if"#,
        r#"f.yml: 19:5: groupname: "g" is repeated in the same file"#,
    ];
    assert_eq!(errors(BAD, legacy()), want_legacy);
    let utf8 = errors(BAD, ParseOptions::default());
    assert!(!utf8
        .iter()
        .any(|e| e.contains("invalid recording rule name")));
    assert_eq!(utf8.len(), want_legacy.len() - 1);
}

#[test]
fn table() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("empty file", "", &[]),
        ("comment only", "# nothing\n", &[]),
        ("no groups key", "groups: []\n", &[]),
        (
            "good recording and alerting",
            "groups:\n- name: a\n  interval: 30s\n  query_offset: 1m\n  limit: 3\n  labels: {team: x}\n  rules:\n  - record: x:y\n    expr: sum(up)\n    labels: {a: b}\n  - alert: Down\n    expr: up == 0\n    for: 5m\n    keep_firing_for: 1m\n    annotations: {s: '{{ $labels.job }} {{ $value | humanize }}'}\n",
            &[],
        ),
        ("empty group name", "groups:\n- rules: []\n", &["f.yml: 2:3: Groupname must not be empty"]),
        (
            "neither record nor alert",
            "groups:\n- name: g\n  rules:\n  - expr: up\n",
            &[r#"f.yml: 0:0: group "g", rule 1, "": one of 'record' or 'alert' must be set"#],
        ),
        (
            "missing expr",
            "groups:\n- name: g\n  rules:\n  - record: r\n",
            &[r#"f.yml: 0:0: group "g", rule 1, "r": field 'expr' must be set in rule"#],
        ),
        (
            "for on recording rule",
            "groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n    for: 1m\n    keep_firing_for: 2m\n",
            &[
                r#"f.yml: 4:13: group "g", rule 1, "r": invalid field 'for' in recording rule"#,
                r#"f.yml: 4:13: group "g", rule 1, "r": invalid field 'keep_firing_for' in recording rule"#,
            ],
        ),
        (
            "bad label names",
            "groups:\n- name: g\n  labels: {__name__: x}\n  rules:\n  - alert: A\n    expr: up\n    labels: {__name__: x}\n",
            &[
                "f.yml: 2:3: invalid label name: __name__",
                r#"f.yml: group "g", rule 1, "A": invalid label name: __name__"#,
            ],
        ),
        (
            "bad duration",
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    for: 5x\n",
            &[r#"f.yml: not a valid duration string: "5x""#],
        ),
        (
            "block scalar expr",
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: |\n      sum(up\n",
            &[r#"f.yml: 5:11: group "g", rule 1, "A": could not parse expression: 2:1: parse error: unclosed left parenthesis"#],
        ),
    ];
    for (name, content, want) in cases {
        assert_eq!(errors(content, ParseOptions::default()), *want, "{name}");
    }
}

#[test]
fn legacy_names() {
    let f = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels: {a.b: x}\n    annotations: {c-d: y}\n";
    assert_eq!(
        errors(f, legacy()),
        [
            r#"f.yml: group "g", rule 1, "A": invalid label name: a.b"#,
            r#"f.yml: group "g", rule 1, "A": invalid annotation name: c-d"#,
        ]
    );
    assert!(errors(f, ParseOptions::default()).is_empty());
}

#[test]
fn unknown_field_is_an_error() {
    let e = errors(
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    severity: x\n",
        ParseOptions::default(),
    );
    // As promtool 2.42 prints it.
    assert_eq!(
        e,
        ["f.yml: yaml: unmarshal errors:\n  line 6: field severity not found in type rulefmt.RuleNode"]
    );
}

#[test]
fn parsed_values() {
    let f = parse_rule_file(
        "f.yml",
        "groups:\n- name: a\n  interval: 30s\n  limit: 2\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 1m30s\n    labels: {sev: 1}\n---\ngroups: []\n",
        &ParseOptions::default(),
    )
    .unwrap();
    let g = &f.groups[0];
    assert_eq!(g.interval, Some(30_000));
    assert_eq!(g.limit, 2);
    assert_eq!(g.rules[0].for_ms, 90_000);
    assert_eq!(g.rules[0].labels.get("sev").map(String::as_str), Some("1"));
    assert_eq!(f.warnings.len(), 1);
}

#[test]
fn unknown_group_and_top_level_fields() {
    assert_eq!(
        errors("groups:\n- name: g\n  foo: 1\n  rules: []\n", ParseOptions::default()),
        ["f.yml: yaml: unmarshal errors:\n  line 3: field foo not found in type rulefmt.RuleGroup"]
    );
    assert_eq!(
        errors("grups: []\n", ParseOptions::default()),
        ["f.yml: yaml: unmarshal errors:\n  line 1: field grups not found in type rulefmt.RuleGroups"]
    );
}
