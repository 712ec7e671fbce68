//! Line lookup for rule files: finds where each group and rule sits in block-style YAML.
//!
//! The YAML decoder does not keep positions, so this scans the text for `key:` lines and
//! rebuilds the item structure from indentation. Flow-style or unusual layouts simply yield
//! no positions (errors are then printed without them).

use super::Pos;

/// Positions of one rule's values.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RuleLoc {
    pub(super) record: Option<Pos>,
    pub(super) alert: Option<Pos>,
    pub(super) expr: Option<Pos>,
}

/// Positions found in a rule file.
#[derive(Debug, Default)]
pub(super) struct Locations {
    /// Start of each group item (the first key), in file order.
    pub(super) groups: Vec<Pos>,
    /// Every rule of every group, in file order.
    pub(super) rules: Vec<RuleLoc>,
}

#[derive(Debug)]
struct KeyLine<'a> {
    line: usize,
    key_col: usize,
    val_col: usize,
    key: &'a str,
    item_start: bool,
}

fn scan_line(line_no: usize, line: &str) -> Option<KeyLine<'_>> {
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut item_start = false;
    loop {
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        if bytes.get(i) == Some(&b'-') && matches!(bytes.get(i + 1), Some(b' ') | Some(b'\t')) {
            item_start = true;
            i += 2;
            continue;
        }
        break;
    }
    let key_start = i;
    while bytes
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        i += 1;
    }
    if i == key_start || bytes.get(i) != Some(&b':') {
        return None;
    }
    let key = line.get(key_start..i)?;
    i += 1;
    if !matches!(bytes.get(i), None | Some(b' ') | Some(b'\t') | Some(b'\r')) {
        return None;
    }
    while matches!(bytes.get(i), Some(b' ') | Some(b'\t')) {
        i += 1;
    }
    Some(KeyLine {
        line: line_no,
        key_col: key_start + 1,
        val_col: i + 1,
        key,
        item_start,
    })
}

impl Locations {
    /// Scans `content`; rule positions are kept only if exactly `n_rules` rules were found.
    pub(super) fn scan(content: &str, n_rules: usize) -> Locations {
        let keys: Vec<KeyLine<'_>> = content
            .lines()
            .enumerate()
            .filter_map(|(n, l)| scan_line(n + 1, l))
            .collect();
        let mut out = Locations::default();
        for (idx, start) in keys.iter().enumerate().filter(|(_, k)| k.item_start) {
            let mut item: Vec<&KeyLine<'_>> = vec![start];
            for k in keys.iter().skip(idx + 1) {
                if k.key_col < start.key_col || (k.item_start && k.key_col <= start.key_col) {
                    break;
                }
                if k.key_col == start.key_col {
                    item.push(k);
                }
            }
            let find = |name: &str| {
                item.iter().find(|k| k.key == name).map(|k| Pos {
                    line: k.line,
                    col: k.val_col,
                })
            };
            if item.iter().any(|k| k.key == "rules") {
                out.groups.push(Pos {
                    line: start.line,
                    col: start.key_col,
                });
            } else if item
                .iter()
                .any(|k| matches!(k.key, "expr" | "record" | "alert"))
            {
                out.rules.push(RuleLoc {
                    record: find("record"),
                    alert: find("alert"),
                    expr: find("expr"),
                });
            }
        }
        if out.rules.len() != n_rules {
            out.rules.clear();
        }
        out
    }
}
