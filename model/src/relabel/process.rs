//! Applying relabel rules to a label set (Prometheus `relabel.Process` / `ProcessBuilder`).

use md5::{Digest, Md5};

use super::{Action, RelabelConfig};
use crate::{Labels, LabelsBuilder};

/// Applies `configs` in order to `labels`. Returns `None` when a rule drops the label set
/// (processing stops there), otherwise the relabeled set.
///
/// ```
/// use kagari_model::{relabel, Labels, RelabelConfig};
/// let rules: Vec<RelabelConfig> = serde_yaml_ng::from_str(r"
/// - source_labels: [__address__]
///   regex: '([^:]+):\d+'
///   target_label: host
/// ").unwrap();
/// let l = Labels::from_pairs([("__address__", "10.0.0.5:9100")]).unwrap();
/// assert_eq!(relabel(&l, &rules).unwrap().get("host"), Some("10.0.0.5"));
/// ```
pub fn relabel(labels: &Labels, configs: &[RelabelConfig]) -> Option<Labels> {
    if configs.is_empty() {
        return Some(labels.clone());
    }
    let mut b = labels.to_builder();
    relabel_builder(&mut b, configs).then(|| b.build())
}

/// Applies `configs` in order to the labels in `builder`, in place, for hot paths that already
/// hold a builder. Returns `false` when a rule drops the label set; the builder's contents are
/// then unspecified.
pub fn relabel_builder(builder: &mut LabelsBuilder, configs: &[RelabelConfig]) -> bool {
    // One scratch buffer per call for the joined source value and expansions.
    let mut scratch = Scratch::default();
    configs.iter().all(|c| apply(builder, c, &mut scratch))
}

#[derive(Default)]
struct Scratch {
    val: String,
    target: String,
    value: String,
}

/// Applies one rule; returns `false` to drop.
fn apply(b: &mut LabelsBuilder, c: &RelabelConfig, s: &mut Scratch) -> bool {
    s.val.clear();
    for (i, n) in c.source_labels.iter().enumerate() {
        if i > 0 {
            s.val.push_str(&c.separator);
        }
        s.val.push_str(b.get(n).unwrap_or(""));
    }
    let val = s.val.as_str();
    let re = c.effective_regex();
    match c.action {
        Action::Drop => return !re.is_match(val),
        Action::Keep => return re.is_match(val),
        Action::DropEqual => return b.get(&c.target_label).unwrap_or("") != val,
        Action::KeepEqual => return b.get(&c.target_label).unwrap_or("") == val,
        Action::Replace => {
            // Fast path: add or delete a constant label.
            if val.is_empty()
                && c.regex.is_none()
                && !c.target_label.contains('$')
                && !c.replacement.contains('$')
            {
                b.set(&c.target_label, &c.replacement);
                return true;
            }
            let Some(caps) = re.as_regex().captures(val) else {
                return true;
            };
            s.target.clear();
            re.expand_captures(&caps, &c.target_label, &mut s.target);
            if !c.name_validation.is_valid_label_name(&s.target) {
                return true;
            }
            s.value.clear();
            re.expand_captures(&caps, &c.replacement, &mut s.value);
            if s.value.is_empty() {
                // Prometheus deletes `target_label` as written, not the expanded name
                // (`lb.Del(cfg.TargetLabel)`); observed with the real Prometheus, see
                // tests/relabel_vs_prometheus.rs case "expand-empty-deletes-which".
                b.del(&c.target_label);
            } else {
                b.set(&s.target, &s.value);
            }
        }
        Action::Lowercase => {
            let v = go_case(val, false);
            b.set(&c.target_label, &v);
        }
        Action::Uppercase => {
            let v = go_case(val, true);
            b.set(&c.target_label, &v);
        }
        Action::HashMod => {
            let Some(m) = hash_mod(val, c.modulus) else {
                return true;
            };
            b.set(&c.target_label, &m.to_string());
        }
        Action::LabelMap => {
            // Iterate over a snapshot: labels added by this rule are not revisited.
            let snapshot: Vec<(String, String)> = b
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            for (name, value) in &snapshot {
                let Some(caps) = re.as_regex().captures(name) else {
                    continue;
                };
                s.target.clear();
                re.expand_captures(&caps, &c.replacement, &mut s.target);
                // Go would add a label with an empty name here; we cannot represent it.
                if !s.target.is_empty() {
                    b.set(&s.target, value);
                }
            }
        }
        Action::LabelDrop => {
            b.retain(|n, _| !re.is_match(n));
        }
        Action::LabelKeep => {
            b.retain(|n, _| re.is_match(n));
        }
    }
    true
}

/// `hashmod`: the last 8 bytes of MD5(`val`) as a big-endian u64, modulo `modulus`.
/// `None` for a zero modulus (rejected by validation; skipped rather than panicking).
pub(crate) fn hash_mod(val: &str, modulus: u64) -> Option<u64> {
    let digest: [u8; 16] = Md5::digest(val.as_bytes()).into();
    let (_, tail) = digest.split_at(8);
    let tail: [u8; 8] = tail.try_into().ok()?;
    u64::from_be_bytes(tail).checked_rem(modulus)
}

/// Go's `strings.ToLower`/`ToUpper`: per-character *simple* case mapping. Rust's
/// `to_lowercase` uses full mappings (`ß` → `SS`, final sigma) that Go does not apply.
fn go_case(s: &str, upper: bool) -> String {
    if s.is_ascii() {
        return if upper {
            s.to_ascii_uppercase()
        } else {
            s.to_ascii_lowercase()
        };
    }
    s.chars()
        .map(|c| {
            if upper {
                let mut m = c.to_uppercase();
                // A multi-character full mapping means there is no simple one: keep `c`.
                if m.len() == 1 {
                    m.next().unwrap_or(c)
                } else {
                    c
                }
            } else {
                // Only U+0130 has a multi-character lower-case mapping; its simple one is 'i'.
                c.to_lowercase().next().unwrap_or(c)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_mod_reference_values() {
        // From relabel.md's hash reference table.
        assert_eq!(
            hash_mod("10.0.0.5:9100", u64::MAX),
            Some(11_844_482_089_502_435_870)
        );
        assert_eq!(hash_mod("10.0.0.5:9100", 4), Some(2));
        assert_eq!(hash_mod("", 10), Some(8));
        assert_eq!(hash_mod("a", 100), Some(97));
        assert_eq!(hash_mod("a", 0), None);
    }

    #[test]
    fn go_case_mapping() {
        assert_eq!(go_case("Prod-EU", false), "prod-eu");
        assert_eq!(go_case("straße", true), "STRAßE");
        assert_eq!(go_case("ΟΔΟΣ", false), "οδοσ"); // no final-sigma rule in Go
        assert_eq!(go_case("İ", false), "i");
        assert_eq!(go_case("éa", true), "ÉA");
    }
}
