//! The head's inverted index: label name → value → sorted series refs.

use std::collections::BTreeMap;
use std::ops::Bound;

use kagari_model::{Labels, MatchType, Matcher};

use super::series::SeriesRef;

/// Label name → value → series refs (ascending), plus the list of all refs.
#[derive(Debug, Default)]
pub(crate) struct MemPostings {
    m: BTreeMap<Box<str>, BTreeMap<Box<str>, Vec<SeriesRef>>>,
    all: Vec<SeriesRef>,
}

fn insert_sorted(list: &mut Vec<SeriesRef>, r: SeriesRef) {
    match list.last() {
        Some(&last) if last >= r => {
            if let Err(pos) = list.binary_search(&r) {
                list.insert(pos, r);
            }
        }
        _ => list.push(r),
    }
}

fn remove_sorted(list: &mut Vec<SeriesRef>, r: SeriesRef) {
    if let Ok(pos) = list.binary_search(&r) {
        list.remove(pos);
    }
}

impl MemPostings {
    pub(crate) fn add(&mut self, r: SeriesRef, labels: &Labels) {
        for l in labels.iter() {
            let values = match self.m.get_mut(&*l.name) {
                Some(v) => v,
                None => self.m.entry(l.name.clone()).or_default(),
            };
            let list = match values.get_mut(&*l.value) {
                Some(list) => list,
                None => values.entry(l.value.clone()).or_default(),
            };
            insert_sorted(list, r);
        }
        insert_sorted(&mut self.all, r);
    }

    pub(crate) fn remove(&mut self, r: SeriesRef, labels: &Labels) {
        for l in labels.iter() {
            let Some(values) = self.m.get_mut(&*l.name) else {
                continue;
            };
            if let Some(list) = values.get_mut(&*l.value) {
                remove_sorted(list, r);
                if list.is_empty() {
                    values.remove(&*l.value);
                }
            }
            if values.is_empty() {
                self.m.remove(&*l.name);
            }
        }
        remove_sorted(&mut self.all, r);
    }

    /// Sorted label names.
    pub(crate) fn label_names(&self) -> Vec<String> {
        self.m.keys().map(|k| k.to_string()).collect()
    }

    /// Sorted values of `name`.
    pub(crate) fn label_values(&self, name: &str) -> Vec<String> {
        self.m
            .get(name)
            .map(|v| v.keys().map(|k| k.to_string()).collect())
            .unwrap_or_default()
    }

    /// The union of the postings of the values of `m.name()` that `m` accepts (`want` = true)
    /// or rejects (`want` = false); uses the matcher's literal set and prefix when it has them.
    fn values_matching(&self, m: &Matcher, want: bool) -> Vec<SeriesRef> {
        let Some(values) = self.m.get(m.name()) else {
            return Vec::new();
        };
        let mut lists: Vec<&[SeriesRef]> = Vec::new();
        let positive = matches!(m.match_type(), MatchType::Equal | MatchType::Regex);
        let literal: Option<Vec<&str>> = match m.match_type() {
            MatchType::Equal | MatchType::NotEqual => Some(vec![m.value()]),
            _ => m
                .set_matches()
                .map(|s| s.iter().map(String::as_str).collect()),
        };
        match literal {
            // The accepted (positive) or rejected (negative) set is a list of literals.
            Some(lits) if want == positive => {
                for v in lits {
                    if let Some(l) = values.get(v) {
                        lists.push(l);
                    }
                }
            }
            _ => {
                let range: Box<dyn Iterator<Item = (&Box<str>, &Vec<SeriesRef>)>> = match m.prefix()
                {
                    Some(p) if want == positive => Box::new(
                        values
                            .range::<str, _>((Bound::Included(p), Bound::Unbounded))
                            .take_while(move |(k, _)| k.starts_with(p)),
                    ),
                    _ => Box::new(values.iter()),
                };
                for (v, l) in range {
                    if m.matches(v) == want {
                        lists.push(l);
                    }
                }
            }
        }
        union(&lists)
    }

    /// Refs of the series matching all `matchers` (every series for none), ascending.
    pub(crate) fn select(&self, matchers: &[Matcher]) -> Vec<SeriesRef> {
        let mut include: Vec<Vec<SeriesRef>> = Vec::new();
        let mut exclude: Vec<Vec<SeriesRef>> = Vec::new();
        for m in matchers {
            if m.matches_empty() {
                // Everything except series whose (present) value fails the matcher.
                exclude.push(self.values_matching(m, false));
            } else {
                include.push(self.values_matching(m, true));
            }
        }
        let base = if include.is_empty() {
            self.all.clone()
        } else {
            include.sort_by_key(Vec::len);
            let mut acc = include.swap_remove(0);
            for l in &include {
                acc = intersect(&acc, l);
            }
            acc
        };
        let ex: Vec<&[SeriesRef]> = exclude.iter().map(Vec::as_slice).collect();
        without(&base, &union(&ex))
    }
}

fn intersect(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        match x.cmp(&y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(x);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn union(lists: &[&[SeriesRef]]) -> Vec<SeriesRef> {
    match lists {
        [] => Vec::new(),
        [one] => one.to_vec(),
        _ => {
            let mut out: Vec<SeriesRef> = lists.iter().flat_map(|l| l.iter().copied()).collect();
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

fn without(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
    if b.is_empty() {
        return a.to_vec();
    }
    a.iter()
        .copied()
        .filter(|r| b.binary_search(r).is_err())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied()).unwrap()
    }

    fn m(t: MatchType, n: &str, v: &str) -> Matcher {
        Matcher::new(t, n, v).unwrap()
    }

    fn fixture() -> MemPostings {
        let mut p = MemPostings::default();
        p.add(
            1,
            &l(&[("__name__", "up"), ("job", "api"), ("path", "/api/v1")]),
        );
        p.add(2, &l(&[("__name__", "up"), ("job", "web")]));
        p.add(
            3,
            &l(&[("__name__", "req"), ("job", "web"), ("path", "/api/v2")]),
        );
        p.add(4, &l(&[("__name__", "req"), ("job", "db"), ("path", "/x")]));
        p
    }

    #[test]
    fn selection_by_each_matcher_kind() {
        let p = fixture();
        let cases: Vec<(Vec<Matcher>, Vec<SeriesRef>)> = vec![
            (vec![], vec![1, 2, 3, 4]),
            (vec![m(MatchType::Equal, "__name__", "up")], vec![1, 2]),
            (vec![m(MatchType::NotEqual, "job", "web")], vec![1, 4]),
            (vec![m(MatchType::Regex, "job", "web|db")], vec![2, 3, 4]),
            (vec![m(MatchType::NotRegex, "job", "web|db")], vec![1]),
            (vec![m(MatchType::Regex, "path", "/api/.*")], vec![1, 3]),
            (vec![m(MatchType::NotRegex, "path", "/api/.*")], vec![2, 4]),
            (vec![m(MatchType::Equal, "path", "")], vec![2]),
            (vec![m(MatchType::Regex, "path", ".+")], vec![1, 3, 4]),
            (
                vec![
                    m(MatchType::Equal, "__name__", "req"),
                    m(MatchType::Regex, "job", "w.*"),
                ],
                vec![3],
            ),
            (vec![m(MatchType::Equal, "nope", "x")], vec![]),
        ];
        for (ms, want) in cases {
            assert_eq!(p.select(&ms), want, "{ms:?}");
        }
    }

    #[test]
    fn remove_drops_empty_values_and_names() {
        let mut p = fixture();
        p.remove(4, &l(&[("__name__", "req"), ("job", "db"), ("path", "/x")]));
        assert_eq!(p.label_values("job"), vec!["api", "web"]);
        assert_eq!(p.select(&[]), vec![1, 2, 3]);
        p.add(0, &l(&[("zz", "1")]));
        assert_eq!(p.select(&[]), vec![0, 1, 2, 3]);
        assert_eq!(p.label_names(), vec!["__name__", "job", "path", "zz"]);
    }
}
