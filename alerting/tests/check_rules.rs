//! Rule-file checks against real `promtool check rules` (2.42) output, stored next to the
//! inputs in `testdata/` (`*.promtool.txt`, lines sorted: promtool prints annotation errors in
//! Go map order).

use kagari_alerting::{parse_rule_file, ParseOptions};

fn sorted_errors(name: &str, content: &str, opts: &ParseOptions) -> Vec<String> {
    let mut v: Vec<String> = match parse_rule_file(name, content, opts) {
        Ok(_) => Vec::new(),
        Err(errs) => errs.iter().map(ToString::to_string).collect(),
    };
    v.sort();
    v
}

#[test]
fn template_parse_errors_match_promtool() {
    let content = include_str!("testdata/bad_templates.yml");
    let want: Vec<String> = include_str!("testdata/bad_templates.promtool.txt")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        sorted_errors("badrules.yml", content, &ParseOptions::default()),
        want
    );
}

#[test]
fn valid_file_has_no_errors() {
    let content = "groups:\n  - name: ok\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n      - alert: Down\n        expr: up == 0\n        for: 5m\n        annotations:\n          summary: '{{ $labels.instance }} down ({{ $value | humanize }})'\n";
    assert!(parse_rule_file("ok.yml", content, &ParseOptions::default()).is_ok());
}
