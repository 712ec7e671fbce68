//! Fast paths for common anchored regexes, found by inspecting the parsed pattern.
//!
//! Prometheus spends much of its query time in label regexes, and most of them are simple:
//! literals, `a|b|c`, `foo.*`, `.*foo.*`. We recognise those shapes from the HIR of the
//! translated pattern and answer with string operations instead of running the regex engine.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// The most strings a regex may match for us to keep it as a set (Prometheus: 256).
const MAX_SET: usize = 256;
/// The most characters of a class we enumerate into a set.
const MAX_CLASS_CHARS: u32 = 32;

/// How to decide a match without the regex engine, if possible.
#[derive(Debug, Clone)]
pub(crate) enum Strategy {
    /// `.*`: everything matches.
    Any,
    /// `.+`: every non-empty string matches.
    NonEmpty,
    /// A finite set of strings, sorted and deduplicated (a literal is a set of one).
    Set(Vec<String>),
    /// `prefix.*`
    Prefix(String),
    /// `.*suffix`
    Suffix(String),
    /// `.*needle.*`
    Contains(String),
    /// Run the regex, after checking a required literal prefix (possibly empty).
    Regex { prefix: String },
}

/// The result of analysing one pattern.
#[derive(Debug, Clone)]
pub(crate) struct Analysis {
    pub(crate) strategy: Strategy,
    /// A non-empty literal every match starts with, if known.
    pub(crate) prefix: Option<String>,
}

/// Analyses `^(?s:translated)$`, the regex Prometheus actually compiles.
///
/// Fast paths assume the pattern is anchored at both ends. That fails for unbalanced input
/// such as `)|(`, which becomes `^(?s:)|()$` (valid, and unanchored, in Go too); anything
/// not of the form `^ X $` falls back to the regex engine.
pub(crate) fn analyse(translated: &str) -> Analysis {
    let fallback = Analysis {
        strategy: Strategy::Regex {
            prefix: String::new(),
        },
        prefix: None,
    };
    let Ok(hir) = regex_syntax::ParserBuilder::new()
        .build()
        .parse(&format!("^(?s:{translated})$"))
    else {
        return fallback;
    };
    let HirKind::Concat(subs) = hir.kind() else {
        return fallback;
    };
    let (Some(first), Some(last)) = (subs.first(), subs.last()) else {
        return fallback;
    };
    let is_look = |h: &Hir, l: Look| matches!(h.kind(), HirKind::Look(x) if *x == l);
    if subs.len() < 2 || !is_look(first, Look::Start) || !is_look(last, Look::End) {
        return fallback;
    }
    let inner = Hir::concat(subs.get(1..subs.len() - 1).unwrap_or_default().to_vec());
    let hir = strip_captures(&inner);
    let prefix = literal_prefix(hir);
    let strategy = if is_dot_star(hir, 0) {
        Strategy::Any
    } else if is_dot_star(hir, 1) {
        Strategy::NonEmpty
    } else if let Some(set) = finite_set(hir) {
        Strategy::Set(set)
    } else if let Some(s) = concat_shape(hir) {
        s
    } else {
        Strategy::Regex {
            prefix: prefix.clone().unwrap_or_default(),
        }
    };
    Analysis { strategy, prefix }
}

fn strip_captures(mut h: &Hir) -> &Hir {
    while let HirKind::Capture(c) = h.kind() {
        h = &c.sub;
    }
    h
}

/// Whether `h` is `.{min,}` with `.` matching every character.
fn is_dot_star(h: &Hir, min: u32) -> bool {
    let HirKind::Repetition(r) = h.kind() else {
        return false;
    };
    if r.min != min || r.max.is_some() {
        return false;
    }
    let HirKind::Class(Class::Unicode(c)) = strip_captures(&r.sub).kind() else {
        return false;
    };
    matches!(c.ranges(), [r] if r.start() == '\0' && r.end() == char::MAX)
}

fn literal(h: &Hir) -> Option<&str> {
    match strip_captures(h).kind() {
        HirKind::Literal(l) => std::str::from_utf8(&l.0).ok(),
        _ => None,
    }
}

/// The concatenated literals at the start of `h`.
fn literal_prefix(h: &Hir) -> Option<String> {
    let mut p = String::new();
    match h.kind() {
        HirKind::Literal(_) => p.push_str(literal(h)?),
        HirKind::Concat(subs) => {
            for s in subs {
                match literal(s) {
                    Some(l) => p.push_str(l),
                    None => break,
                }
            }
        }
        _ => {}
    }
    (!p.is_empty()).then_some(p)
}

/// `lit.*`, `.*lit`, `.*lit.*`.
fn concat_shape(h: &Hir) -> Option<Strategy> {
    let HirKind::Concat(subs) = h.kind() else {
        return None;
    };
    match subs.as_slice() {
        [a, b] if is_dot_star(b, 0) => literal(a).map(|l| Strategy::Prefix(l.to_string())),
        [a, b] if is_dot_star(a, 0) => literal(b).map(|l| Strategy::Suffix(l.to_string())),
        [a, b, c] if is_dot_star(a, 0) && is_dot_star(c, 0) => {
            literal(b).map(|l| Strategy::Contains(l.to_string()))
        }
        _ => None,
    }
}

/// Every string `h` matches, if there are at most [`MAX_SET`] of them.
fn finite_set(h: &Hir) -> Option<Vec<String>> {
    let mut v = enumerate(h)?;
    v.sort_unstable();
    v.dedup();
    Some(v)
}

fn enumerate(h: &Hir) -> Option<Vec<String>> {
    match h.kind() {
        HirKind::Empty => Some(vec![String::new()]),
        HirKind::Literal(_) => Some(vec![literal(h)?.to_string()]),
        HirKind::Capture(c) => enumerate(&c.sub),
        HirKind::Class(Class::Unicode(c)) => {
            let mut n = 0u32;
            for r in c.ranges() {
                n = n.saturating_add(u32::from(r.end()) - u32::from(r.start()) + 1);
            }
            if n > MAX_CLASS_CHARS {
                return None;
            }
            Some(
                c.ranges()
                    .iter()
                    .flat_map(|r| r.start()..=r.end())
                    .map(String::from)
                    .collect(),
            )
        }
        HirKind::Alternation(subs) => {
            let mut out = Vec::new();
            for s in subs {
                out.extend(enumerate(s)?);
                if out.len() > MAX_SET {
                    return None;
                }
            }
            Some(out)
        }
        HirKind::Concat(subs) => {
            let mut out = vec![String::new()];
            for s in subs {
                out = product(&out, &enumerate(s)?)?;
            }
            Some(out)
        }
        HirKind::Repetition(r) => {
            let max = r.max?;
            if max > 8 {
                return None;
            }
            let one = enumerate(&r.sub)?;
            let mut out = Vec::new();
            let mut cur = vec![String::new()];
            for k in 0..=max {
                if k >= r.min {
                    out.extend(cur.iter().cloned());
                    if out.len() > MAX_SET {
                        return None;
                    }
                }
                if k < max {
                    cur = product(&cur, &one)?;
                }
            }
            Some(out)
        }
        HirKind::Class(Class::Bytes(_)) | HirKind::Look(_) => None,
    }
}

fn product(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len().saturating_mul(b.len()) > MAX_SET {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(x);
            s.push_str(y);
            out.push(s);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strat(p: &str) -> Strategy {
        analyse(&crate::re2::translate::translate(p).unwrap().pattern).strategy
    }

    #[test]
    fn shapes() {
        assert!(matches!(strat(".*"), Strategy::Any));
        assert!(matches!(strat("(.*)"), Strategy::Any));
        assert!(matches!(strat(".+"), Strategy::NonEmpty));
        assert!(matches!(strat("foo.*"), Strategy::Prefix(p) if p == "foo"));
        assert!(matches!(strat(".*foo"), Strategy::Suffix(p) if p == "foo"));
        assert!(matches!(strat(".*foo.*"), Strategy::Contains(p) if p == "foo"));
        assert!(matches!(strat("a|b|c"), Strategy::Set(s) if s == ["a", "b", "c"]));
        assert!(matches!(strat("(foo|bar)"), Strategy::Set(s) if s == ["bar", "foo"]));
        assert!(matches!(strat("foo"), Strategy::Set(s) if s == ["foo"]));
        assert!(matches!(strat(""), Strategy::Set(s) if s == [""]));
        assert!(matches!(strat("ab?"), Strategy::Set(s) if s == ["a", "ab"]));
        assert!(matches!(strat("foo[0-9]+"), Strategy::Regex { prefix } if prefix == "foo"));
        assert!(matches!(strat(r"\d+"), Strategy::Regex { prefix } if prefix.is_empty()));
        // Unbalanced: `^(?s:)|()$` is not anchored at both ends.
        assert!(matches!(strat(")|("), Strategy::Regex { prefix } if prefix.is_empty()));
        assert!(matches!(strat("a)|(b"), Strategy::Regex { prefix } if prefix.is_empty()));
    }

    #[test]
    fn prefixes() {
        let p = |s: &str| analyse(&crate::re2::translate::translate(s).unwrap().pattern).prefix;
        assert_eq!(p("foo(bar|baz).*").as_deref(), Some("foo"));
        assert_eq!(p("(foo)x.+").as_deref(), Some("foox"));
        assert_eq!(p("foo"), Some("foo".to_string()));
        assert_eq!(p("a|b"), None);
        assert_eq!(p(".*foo"), None);
    }
}
