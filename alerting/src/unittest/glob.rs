//! `rule_files` globs with Go's `filepath.Glob` semantics: `*`, `?`, `[a-z]`, `[^x]` and `\`
//! escapes within one path component; matches are returned sorted per directory.

use std::path::{Path, PathBuf};

/// A pattern with unbalanced brackets or a trailing escape (Go's `ErrBadPattern`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern")]
pub(super) struct BadPattern;

fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '\\'])
}

/// Expands `pattern`; a pattern without metacharacters matches itself if the file exists.
pub(super) fn glob(pattern: &str) -> Result<Vec<String>, BadPattern> {
    if !has_meta(pattern) {
        return Ok(if Path::new(pattern).symlink_metadata().is_ok() {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        });
    }
    let (dir, file) = match pattern.rfind('/') {
        Some(i) => (
            pattern.get(..i).unwrap_or(""),
            pattern.get(i + 1..).unwrap_or(""),
        ),
        None => (".", pattern),
    };
    let dir = if dir.is_empty() { "/" } else { dir };
    // Validate the file pattern once, even if the directory does not exist.
    matches(file, "")?;
    let dirs = if has_meta(dir) {
        glob(dir)?
    } else {
        vec![dir.to_string()]
    };
    let mut out = Vec::new();
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut names: Vec<String> = rd
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        for n in names {
            if matches(file, &n)? {
                let p = if pattern.contains('/') {
                    join(&d, &n)
                } else {
                    n.clone()
                };
                out.push(p);
            }
        }
    }
    Ok(out)
}

fn join(dir: &str, name: &str) -> String {
    let p: PathBuf = Path::new(dir).join(name);
    p.to_string_lossy().into_owned()
}

/// Whether `name` matches the single-component `pattern` (Go's `filepath.Match`).
pub(super) fn matches(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Check the whole pattern's syntax first so errors do not depend on the name.
    let mut i = 0;
    while i < p.len() {
        i = match p.get(i) {
            Some('[') => class_end(&p, i)?,
            Some('\\') if i + 1 >= p.len() => return Err(BadPattern),
            Some('\\') => i + 2,
            _ => i + 1,
        };
    }
    Ok(match_at(&p, &n))
}

/// Index just past the `]` closing the class that starts at `start`.
fn class_end(p: &[char], start: usize) -> Result<usize, BadPattern> {
    let mut i = start + 1;
    if p.get(i) == Some(&'^') {
        i += 1;
    }
    let mut first = true;
    loop {
        match p.get(i) {
            None => return Err(BadPattern),
            Some(']') if !first => return Ok(i + 1),
            Some('\\') => {
                if i + 1 >= p.len() {
                    return Err(BadPattern);
                }
                i += 2;
            }
            Some('-') if first => return Err(BadPattern),
            _ => i += 1,
        }
        first = false;
    }
}

fn match_at(p: &[char], n: &[char]) -> bool {
    match p.split_first() {
        None => n.is_empty(),
        Some(('*', rest)) => {
            for k in 0..=n.len() {
                if n.get(..k).is_some_and(|pre| pre.contains(&'/')) {
                    return false;
                }
                if match_at(rest, n.get(k..).unwrap_or(&[])) {
                    return true;
                }
            }
            false
        }
        Some(('?', rest)) => match n.split_first() {
            Some((c, nr)) if *c != '/' => match_at(rest, nr),
            _ => false,
        },
        Some(('[', _)) => {
            let Ok(end) = class_end(p, 0) else {
                return false;
            };
            let Some((c, nr)) = n.split_first() else {
                return false;
            };
            class_matches(p.get(1..end - 1).unwrap_or(&[]), *c)
                && *c != '/'
                && match_at(p.get(end..).unwrap_or(&[]), nr)
        }
        Some(('\\', rest)) => match (rest.split_first(), n.split_first()) {
            (Some((pc, pr)), Some((nc, nr))) => pc == nc && match_at(pr, nr),
            _ => false,
        },
        Some((pc, rest)) => match n.split_first() {
            Some((nc, nr)) => pc == nc && match_at(rest, nr),
            None => false,
        },
    }
}

/// `body` is the class without its brackets, e.g. `^a-z\]`.
fn class_matches(body: &[char], c: char) -> bool {
    let (negated, mut body) = match body.split_first() {
        Some(('^', rest)) => (true, rest),
        _ => (false, body),
    };
    let mut hit = false;
    let take = |b: &mut &[char]| -> Option<char> {
        let (first, rest) = b.split_first()?;
        if *first == '\\' {
            let (esc, rest2) = rest.split_first()?;
            *b = rest2;
            Some(*esc)
        } else {
            *b = rest;
            Some(*first)
        }
    };
    while let Some(lo) = take(&mut body) {
        let hi = if body.first() == Some(&'-') && body.len() > 1 {
            body = body.get(1..).unwrap_or(&[]);
            take(&mut body).unwrap_or(lo)
        } else {
            lo
        };
        if lo <= c && c <= hi {
            hit = true;
        }
    }
    hit != negated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_table() {
        let cases = [
            ("*.yml", "a.yml", true),
            ("*.yml", "a.yaml", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("[a-c]x", "bx", true),
            ("[^a-c]x", "bx", false),
            ("[^a-c]x", "dx", true),
            ("\\*", "*", true),
            ("\\*", "a", false),
            ("*", "", true),
            ("rules-[0-9][0-9].yml", "rules-07.yml", true),
        ];
        for (p, n, want) in cases {
            assert_eq!(matches(p, n), Ok(want), "{p} {n}");
        }
        assert_eq!(matches("[a", "a"), Err(BadPattern));
        assert_eq!(matches("a\\", "a"), Err(BadPattern));
    }

    #[test]
    fn globs_a_directory() {
        let dir = std::env::temp_dir().join(format!("kagari-glob-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["b.yml", "a.yml", "c.txt"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let base = dir.to_string_lossy().into_owned();
        let got = glob(&format!("{base}/*.yml")).unwrap();
        assert_eq!(got, vec![format!("{base}/a.yml"), format!("{base}/b.yml")]);
        assert_eq!(glob(&format!("{base}/c.txt")).unwrap().len(), 1);
        assert!(glob(&format!("{base}/nope.yml")).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
