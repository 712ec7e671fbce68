//! Finding and reading rule files: `rule_files` globs (Go `filepath.Glob` syntax: `*`, `?`,
//! `[...]` in any path segment) and parsing every matched file.

use std::path::{Path, PathBuf};

use crate::rulefmt::{parse_rule_file, ParseOptions, RuleGroup};

/// Why the rule files could not be loaded; the previous rule set stays active.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A glob pattern is malformed (an unclosed `[`).
    #[error("bad rule file pattern {pattern:?}: syntax error in pattern")]
    BadPattern {
        /// The pattern.
        pattern: String,
    },
    /// A matched file could not be read.
    #[error("reading rule file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file failed validation (every problem of every file, one per line).
    #[error("{}", .errors.join("\n"))]
    Invalid {
        /// The messages, `<file>: <line>:<col>: ...` as promtool prints them.
        errors: Vec<String>,
    },
    /// A group could not be built (should not happen after validation).
    #[error(transparent)]
    Build(#[from] crate::rules::RuleError),
}

/// Expands `patterns` (absolute, or relative to the working directory) into the sorted,
/// de-duplicated list of existing files. A pattern without wildcards yields itself only if
/// the file exists, as with Go's `filepath.Glob`.
pub fn expand_rule_files(patterns: &[String]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for p in patterns {
        let mut found = glob(p)?;
        found.sort();
        for f in found {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    Ok(out)
}

/// Reads and validates every file matched by `patterns`; returns `(file, group)` pairs in
/// file order, where `file` is the path as matched (the group identity uses it).
pub fn load_rule_files(
    patterns: &[String],
    opts: &ParseOptions,
) -> Result<Vec<(String, RuleGroup)>, LoadError> {
    let mut groups = Vec::new();
    let mut errors = Vec::new();
    for path in expand_rule_files(patterns)? {
        let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Read {
            path: path.clone(),
            source,
        })?;
        let name = path.to_string_lossy().into_owned();
        match parse_rule_file(&name, &text, opts) {
            Ok(f) => groups.extend(f.groups.into_iter().map(|g| (name.clone(), g))),
            Err(errs) => errors.extend(errs.iter().map(ToString::to_string)),
        }
    }
    if errors.is_empty() {
        Ok(groups)
    } else {
        Err(LoadError::Invalid { errors })
    }
}

fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn glob(pattern: &str) -> Result<Vec<PathBuf>, LoadError> {
    let bad = || LoadError::BadPattern {
        pattern: pattern.to_string(),
    };
    if !has_meta(pattern) {
        let p = PathBuf::from(pattern);
        return Ok(if p.exists() { vec![p] } else { Vec::new() });
    }
    let (mut bases, rest) = if let Some(stripped) = pattern.strip_prefix('/') {
        (vec![PathBuf::from("/")], stripped)
    } else {
        (vec![PathBuf::new()], pattern)
    };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let mut next = Vec::new();
        for base in &bases {
            if !has_meta(seg) {
                let p = base.join(seg);
                if (last && p.exists()) || p.is_dir() {
                    next.push(p);
                }
                continue;
            }
            // Validate the segment even when the directory is missing, as Go does.
            match_segment(seg, "").ok_or_else(bad)?;
            let dir = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base.as_path()
            };
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if match_segment(seg, &name).ok_or_else(bad)? {
                    let p = base.join(&name);
                    if last || p.is_dir() {
                        next.push(p);
                    }
                }
            }
        }
        bases = next;
    }
    Ok(bases)
}

/// Go `filepath.Match` for one segment; `None` for a malformed pattern.
fn match_segment(pattern: &str, name: &str) -> Option<bool> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> Option<bool> {
    match p.split_first() {
        None => Some(n.is_empty()),
        Some(('*', rest)) => {
            for k in 0..=n.len() {
                if n.get(..k).is_some_and(|skipped| skipped.contains(&'/')) {
                    break;
                }
                if match_from(rest, n.get(k..).unwrap_or(&[]))? {
                    return Some(true);
                }
            }
            Some(false)
        }
        Some(('?', rest)) => match n.split_first() {
            Some((c, nr)) if *c != '/' => match_from(rest, nr),
            _ => {
                // Still validate the rest of the pattern.
                match_from(rest, &[])?;
                Some(false)
            }
        },
        Some(('[', rest)) => {
            let (matched, after) = match_class(rest, n.first().copied())?;
            if matched {
                match_from(after, n.get(1..).unwrap_or(&[]))
            } else {
                match_from(after, &[])?;
                Some(false)
            }
        }
        Some(('\\', rest)) => {
            let (c, after) = rest.split_first()?;
            if n.first() == Some(c) {
                match_from(after, n.get(1..).unwrap_or(&[]))
            } else {
                Some(false)
            }
        }
        Some((c, rest)) => {
            if n.first() == Some(c) {
                match_from(rest, n.get(1..).unwrap_or(&[]))
            } else {
                match_from(rest, &[])?;
                Some(false)
            }
        }
    }
}

/// Matches a `[...]` class (after the `[`) against `c`; returns (matched, rest of pattern).
fn match_class(p: &[char], c: Option<char>) -> Option<(bool, &[char])> {
    let (negate, mut p) = match p.split_first() {
        Some(('^', rest)) => (true, rest),
        _ => (false, p),
    };
    let mut matched = false;
    let mut first = true;
    loop {
        match p.split_first() {
            None => return None,
            Some((']', rest)) if !first => {
                let ok = c.is_some_and(|c| c != '/') && (matched != negate);
                return Some((ok, rest));
            }
            Some((lo, rest)) => {
                let (lo, rest) = if *lo == '\\' {
                    let (x, r) = rest.split_first()?;
                    (*x, r)
                } else {
                    (*lo, rest)
                };
                let (hi, rest) = match rest {
                    ['-', hi, r @ ..] if *hi != ']' => (*hi, r),
                    _ => (lo, rest),
                };
                if c.is_some_and(|c| lo <= c && c <= hi) {
                    matched = true;
                }
                p = rest;
                first = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_matching_follows_go() {
        let m = |p: &str, n: &str| match_segment(p, n);
        assert_eq!(m("*.yml", "a.yml"), Some(true));
        assert_eq!(m("*.yml", "a.yaml"), Some(false));
        assert_eq!(m("a?c", "abc"), Some(true));
        assert_eq!(m("[a-c]x", "bx"), Some(true));
        assert_eq!(m("[^a-c]x", "bx"), Some(false));
        assert_eq!(m("[^a-c]x", "dx"), Some(true));
        assert_eq!(m("r[", "r"), None);
        assert_eq!(m("*", ""), Some(true));
    }

    #[test]
    fn globs_expand_in_any_segment_sorted_and_once() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in ["a/x.yml", "a/y.yml", "b/z.yml", "b/skip.txt"] {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "groups: []\n").unwrap();
        }
        let pat = |s: &str| format!("{}/{s}", d.display());
        let got = expand_rule_files(&[pat("*/*.yml"), pat("a/x.yml"), pat("missing.yml")]).unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|p| p.strip_prefix(d).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a/x.yml", "a/y.yml", "b/z.yml"]);
        assert!(matches!(
            expand_rule_files(&[pat("[a.yml")]),
            Err(LoadError::BadPattern { .. })
        ));
    }

    #[test]
    fn invalid_files_report_every_problem() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.yml");
        std::fs::write(
            &p,
            "groups:\n- name: g\n  rules:\n  - record: a\n    expr: sum(up\n",
        )
        .unwrap();
        let err = load_rule_files(&[p.display().to_string()], &ParseOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("could not parse expression"), "{err}");
        std::fs::write(
            &p,
            "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n",
        )
        .unwrap();
        let ok = load_rule_files(&[p.display().to_string()], &ParseOptions::default()).unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].0, p.display().to_string());
    }
}
