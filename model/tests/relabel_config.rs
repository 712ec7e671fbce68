//! Relabel configuration: YAML reading and writing, and validation.
//!
//! Origin: the cases follow `/work/shared/reference/relabel.md` §2 (fields, defaults, YAML
//! notes) and §5 (validation table); the error texts are Prometheus's `Config.Validate`
//! messages as quoted there.

#![cfg(feature = "regex")]

use kagari_model::{NameValidationScheme, RelabelConfig};

fn parse(yaml: &str) -> RelabelConfig {
    serde_yaml_ng::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

fn validate(yaml: &str, scheme: NameValidationScheme) -> Result<(), String> {
    let mut c = parse(yaml);
    c.name_validation = scheme;
    c.validate().map_err(|e| e.to_string())
}

#[test]
fn validation_table() {
    use NameValidationScheme::{Legacy, Utf8};
    // (yaml, scheme, expected error or "" for valid)
    let cases: &[(&str, NameValidationScheme, &str)] = &[
        ("{target_label: x}", Utf8, ""),
        ("{action: hashmod, target_label: x}", Utf8, "relabel configuration for hashmod requires non-zero modulus"),
        ("{action: hashmod, target_label: x, modulus: 2}", Utf8, ""),
        ("{action: replace}", Utf8, "relabel configuration for replace action requires 'target_label' value"),
        ("{action: lowercase}", Utf8, "relabel configuration for lowercase action requires 'target_label' value"),
        ("{action: uppercase}", Utf8, "relabel configuration for uppercase action requires 'target_label' value"),
        ("{action: keepequal}", Utf8, "relabel configuration for keepequal action requires 'target_label' value"),
        ("{action: dropequal}", Utf8, "relabel configuration for dropequal action requires 'target_label' value"),
        ("{action: hashmod, modulus: 1}", Utf8, "relabel configuration for hashmod action requires 'target_label' value"),
        // replace target validity depends on the naming scheme.
        ("{target_label: 'a-b'}", Legacy, r#""a-b" is invalid 'target_label' for replace action"#),
        ("{target_label: 'a-b'}", Utf8, ""),
        ("{target_label: '${1}_x'}", Legacy, ""),
        ("{target_label: '$1-x'}", Legacy, r#""$1-x" is invalid 'target_label' for replace action"#),
        ("{target_label: '$1-x'}", Utf8, ""),
        ("{target_label: '1x'}", Legacy, r#""1x" is invalid 'target_label' for replace action"#),
        // lowercase & co: plain label names, no replacement.
        ("{action: lowercase, target_label: '$1'}", Legacy, r#""$1" is invalid 'target_label' for lowercase action"#),
        ("{action: lowercase, target_label: x, replacement: y}", Utf8, "'replacement' can not be set for lowercase action"),
        ("{action: uppercase, target_label: x, replacement: '$1'}", Utf8, ""),
        ("{action: hashmod, modulus: 2, target_label: 'a b'}", Legacy, r#""a b" is invalid 'target_label' for hashmod action"#),
        // labelmap replacement must be a label-name template.
        ("{action: labelmap, regex: 'x_(.*)'}", Legacy, ""),
        ("{action: labelmap, regex: 'x_(.*)', replacement: 'a-$1'}", Legacy, r#""a-$1" is invalid 'replacement' for labelmap action"#),
        ("{action: labelmap, regex: 'x_(.*)', replacement: ''}", Utf8, r#""" is invalid 'replacement' for labelmap action"#),
        // keepequal/dropequal take only source_labels and target_label; a written regex counts
        // even when it is the default.
        ("{action: keepequal, source_labels: [a], target_label: b}", Utf8, ""),
        ("{action: keepequal, source_labels: [a], target_label: b, regex: '(.*)'}", Utf8,
         "keepequal action requires only 'source_labels' and `target_label`, and no other fields"),
        ("{action: dropequal, source_labels: [a], target_label: b, separator: ','}", Utf8,
         "dropequal action requires only 'source_labels' and `target_label`, and no other fields"),
        ("{action: dropequal, source_labels: [a], target_label: b, modulus: 3}", Utf8,
         "dropequal action requires only 'source_labels' and `target_label`, and no other fields"),
        ("{action: keepequal, source_labels: [a], target_label: b, replacement: x}", Utf8,
         "'replacement' can not be set for keepequal action"),
        // labeldrop/labelkeep take only regex.
        ("{action: labeldrop, regex: tmp_.*}", Utf8, ""),
        ("{action: labeldrop, regex: tmp_.*, source_labels: [a]}", Utf8, "labeldrop action requires only 'regex', and no other fields"),
        ("{action: labelkeep, regex: a, target_label: b}", Utf8, "labelkeep action requires only 'regex', and no other fields"),
        ("{action: labelkeep, regex: a, replacement: b}", Utf8, "labelkeep action requires only 'regex', and no other fields"),
        ("{action: labelkeep, regex: a, separator: b}", Utf8, "labelkeep action requires only 'regex', and no other fields"),
        ("{action: labelkeep, regex: a, modulus: 1}", Utf8, "labelkeep action requires only 'regex', and no other fields"),
        // source label names follow the scheme too.
        ("{source_labels: ['a.b'], target_label: x}", Legacy, r#""a.b" is not a valid label name"#),
        ("{source_labels: ['a.b'], target_label: x}", Utf8, ""),
    ];
    for &(yaml, scheme, want) in cases {
        let got = validate(yaml, scheme);
        match (want, got) {
            ("", Ok(())) => {}
            ("", Err(e)) => panic!("{yaml} ({scheme:?}): unexpected error {e}"),
            (w, Ok(())) => panic!("{yaml} ({scheme:?}): expected error {w}"),
            (w, Err(e)) => assert_eq!(e, w, "{yaml} ({scheme:?})"),
        }
    }
}

#[test]
fn yaml_parse_errors() {
    let err = |y: &str| {
        serde_yaml_ng::from_str::<RelabelConfig>(y)
            .unwrap_err()
            .to_string()
    };
    assert!(err("{action: Frob}").contains(r#"unknown relabel action "Frob""#));
    assert!(err("{action: }").contains("relabel action cannot be empty"));
    assert!(err("{regexp: a}").contains("unknown field `regexp`"));
    assert!(err("{regex: 'a('}").contains("invalid regular expression"));
    assert!(
        err("{regex: 'a(?=b)'}").contains("invalid regular expression"),
        "no look-around in RE2"
    );
    assert!(
        err(r"{regex: '(a)\1'}").contains("invalid regular expression"),
        "no back-references in RE2"
    );
    // A null list entry is not a rule.
    let e = serde_yaml_ng::from_str::<Vec<RelabelConfig>>("- target_label: a\n-\n").unwrap_err();
    assert!(
        e.to_string().contains("empty or null relabeling rule"),
        "{e}"
    );
}

#[test]
fn yaml_round_trip_without_anchors() {
    let yaml = r"
- source_labels: [__address__]
  regex: '([^:]+):\d+'
  target_label: host
- action: Keep
  source_labels: [a, b]
  separator: ','
  regex: x|y
- action: hashmod
  source_labels: [__address__]
  modulus: 4
  target_label: __tmp_hash
- regex: ''
  target_label: e
  replacement: ''
";
    let rules: Vec<RelabelConfig> = serde_yaml_ng::from_str(yaml).unwrap();
    let out = serde_yaml_ng::to_string(&rules).unwrap();
    assert!(out.contains(r"regex: ([^:]+):\d+"), "{out}");
    assert!(!out.contains("^(?s:"), "anchors must not leak: {out}");
    assert!(out.contains("action: keep"), "{out}");
    assert!(
        out.contains("regex: (.*)"),
        "an unset regex prints as the default: {out}"
    );
    let again: Vec<RelabelConfig> = serde_yaml_ng::from_str(&out).unwrap();
    // The unset regex comes back as an explicit `(.*)`; everything else is identical.
    assert_eq!(again.len(), rules.len());
    for (a, b) in rules.iter().zip(&again) {
        assert_eq!(a.source_labels, b.source_labels);
        assert_eq!(a.separator, b.separator);
        assert_eq!(a.target_label, b.target_label);
        assert_eq!(a.effective_regex(), b.effective_regex());
        assert_eq!(a.modulus, b.modulus);
        assert_eq!(a.replacement, b.replacement);
        assert_eq!(a.action, b.action);
    }
    // The empty regex and empty replacement survive the round trip.
    assert_eq!(again[3].effective_regex().as_str(), "");
    assert_eq!(again[3].replacement, "");
}

#[test]
fn explicit_default_regex_disables_the_replace_fast_path() {
    // Fast path (regex not written, empty source value): the target is set without checking
    // it. With `regex: (.*)` written, the regex path runs and checks the target label name.
    use kagari_model::{relabel, Labels};
    let l = Labels::empty();
    let mut fast = parse("{target_label: 'a-b', replacement: v}");
    fast.name_validation = NameValidationScheme::Legacy;
    let mut slow = parse("{target_label: 'a-b', replacement: v, regex: '(.*)'}");
    slow.name_validation = NameValidationScheme::Legacy;
    assert_eq!(relabel(&l, &[fast]).unwrap().len(), 1);
    assert_eq!(relabel(&l, &[slow]).unwrap().len(), 0);
}
