//! Property tests: the matcher fast paths (literal, set, `.*`, `.+`, prefix/suffix/contains,
//! prefix pre-check) agree with running the plain anchored regex from `compile_regex`.

#![cfg(feature = "regex")]

use kagari_model::{compile_regex, MatchType, Matcher};
use proptest::prelude::*;

/// Short strings over a small alphabet (including a newline, a non-ASCII letter and regex
/// meta characters), so random inputs often hit the literals in the patterns.
fn word() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec!['a', 'b', 'c', '.', '\n', 'é', '_', '1']),
        0..5,
    )
    .prop_map(|v| v.into_iter().collect())
}

/// Escapes regex meta characters the way Go's `regexp.QuoteMeta` does.
fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Patterns in the shapes the fast paths recognise, plus near misses that must fall back to
/// the regex engine.
fn pattern() -> impl Strategy<Value = String> {
    let lit = || word().prop_map(|w| escape(&w));
    prop_oneof![
        lit(),
        proptest::collection::vec(lit(), 1..5).prop_map(|v| v.join("|")),
        proptest::collection::vec(lit(), 1..4).prop_map(|v| format!("({})", v.join("|"))),
        lit().prop_map(|l| format!("{l}.*")),
        lit().prop_map(|l| format!(".*{l}")),
        lit().prop_map(|l| format!(".*{l}.*")),
        lit().prop_map(|l| format!("{l}.+")),
        lit().prop_map(|l| format!("{l}[ab]?")),
        (lit(), lit()).prop_map(|(a, b)| format!("{a}(?:{b}|c)*")),
        lit().prop_map(|l| format!("(?i){l}")),
        Just(".*".to_string()),
        Just(".+".to_string()),
        Just("(.*)".to_string()),
        Just("[a-c]".to_string()),
        Just(r"\w+".to_string()),
        Just("a?b?c?".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn fast_paths_agree_with_regex(p in pattern(), inputs in proptest::collection::vec(word(), 1..8)) {
        let m = Matcher::new(MatchType::Regex, "l", &p).unwrap();
        let nm = Matcher::new(MatchType::NotRegex, "l", &p).unwrap();
        let plain = compile_regex(&p).unwrap();
        // Also probe the strings the pattern is built from.
        let mut probes = inputs;
        if let Some(set) = m.set_matches() {
            probes.extend(set.iter().cloned());
        }
        for v in &probes {
            let want = plain.is_match(v);
            prop_assert_eq!(m.matches(v), want, "pattern {:?} value {:?}", p, v);
            prop_assert_eq!(nm.matches(v), !want, "pattern {:?} value {:?}", p, v);
            if let Some(set) = m.set_matches() {
                prop_assert_eq!(set.iter().any(|s| s == v), want, "set of {:?} vs {:?}", p, v);
            }
            if let (Some(prefix), true) = (m.prefix(), want) {
                prop_assert!(v.starts_with(prefix), "pattern {:?} prefix {:?} value {:?}", p, prefix, v);
            }
        }
        if let Some(set) = m.set_matches() {
            prop_assert!(set.windows(2).all(|w| w[0] < w[1]), "set must be sorted and unique");
            for s in set {
                prop_assert!(plain.is_match(s), "set member {:?} of {:?} must match", s, p);
            }
        }
    }
}

#[test]
fn literal_alternations_are_sets() {
    let m = Matcher::new(MatchType::Regex, "job", "api|web|db").unwrap();
    assert_eq!(m.set_matches().unwrap(), ["api", "db", "web"]);
    let m = Matcher::new(MatchType::Regex, "job", r"a\.b|c").unwrap();
    assert_eq!(m.set_matches().unwrap(), ["a.b", "c"]);
    let m = Matcher::new(MatchType::Regex, "job", "foo").unwrap();
    assert_eq!(m.set_matches().unwrap(), ["foo"]);
    assert!(Matcher::new(MatchType::Regex, "job", "a.*")
        .unwrap()
        .set_matches()
        .is_none());
    assert!(Matcher::new(MatchType::Regex, "job", ".+")
        .unwrap()
        .set_matches()
        .is_none());
}

/// Arbitrary short patterns over an alphabet rich in regex syntax.
fn any_pattern() -> impl Strategy<Value = String> {
    let atoms = vec![
        "a",
        "b",
        "é",
        ".",
        "*",
        "+",
        "?",
        "|",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "^",
        "$",
        "\\",
        "-",
        "&",
        "~",
        ":",
        "1",
        "2",
        ",",
        "d",
        "w",
        "s",
        "b",
        "Q",
        "E",
        "p",
        "P",
        "x",
        "?i",
        "?P<n>",
        "[:alpha:]",
        "\\d",
        "\\b",
    ];
    proptest::collection::vec(prop::sample::select(atoms), 0..10).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    /// Translation and compilation never panic, and whenever a pattern compiles, every fast
    /// path agrees with the plain regex.
    #[test]
    fn arbitrary_patterns_never_panic_and_agree(p in any_pattern(), inputs in proptest::collection::vec(word(), 1..6)) {
        let plain = compile_regex(&p);
        let m = Matcher::new(MatchType::Regex, "l", &p);
        prop_assert_eq!(plain.is_ok(), m.is_ok(), "pattern {:?}", p);
        if let (Ok(plain), Ok(m)) = (plain, m) {
            for v in &inputs {
                prop_assert_eq!(m.matches(v), plain.is_match(v), "pattern {:?} value {:?}", p, v);
            }
        }
    }
}
