//! Reading and writing [`RelabelConfig`] in Prometheus's YAML shape (any serde format works).
//!
//! Reading follows Prometheus's `UnmarshalYAML`: missing fields take their defaults; unknown
//! fields are errors; the action is case-insensitive; `regex:` present but null or empty means
//! the empty regex (which only matches `""`); a null string field is the empty string, as
//! Go's YAML decoder makes it; `action:` null is "relabel action cannot be empty"; a null rule
//! is "empty or null relabeling rule".
//!
//! Writing prints every field Prometheus prints on `/api/v1/status/config`, the regex without
//! the added anchors. Unlike Prometheus we always write `replacement` and an empty `regex`, so
//! that reading the output back gives the same rule.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{
    Action, RelabelConfig, RelabelConfigError, DEFAULT_REGEX, DEFAULT_REPLACEMENT,
    DEFAULT_SEPARATOR,
};
use crate::{NameValidationScheme, Regexp};

/// A field that distinguishes "absent" (outer `None`) from "null" (inner `None`).
type Nullable<T> = Option<Option<T>>;

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Nullable<T>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default, deserialize_with = "present")]
    source_labels: Nullable<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    separator: Nullable<String>,
    #[serde(default, deserialize_with = "present")]
    target_label: Nullable<String>,
    #[serde(default, deserialize_with = "present")]
    regex: Nullable<String>,
    #[serde(default, deserialize_with = "present")]
    modulus: Nullable<u64>,
    #[serde(default, deserialize_with = "present")]
    replacement: Nullable<String>,
    #[serde(default, deserialize_with = "present")]
    action: Nullable<String>,
}

impl<'de> Deserialize<'de> for RelabelConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Prometheus rejects a null list entry ("empty or null ... relabeling rule").
        let raw = Option::<Raw>::deserialize(deserializer)?
            .ok_or_else(|| D::Error::custom("empty or null relabeling rule"))?;
        let string = |f: Nullable<String>, default: &str| match f {
            None => default.to_string(),
            Some(v) => v.unwrap_or_default(),
        };
        let action = match raw.action {
            None => Action::Replace,
            Some(None) => return Err(D::Error::custom(RelabelConfigError::EmptyAction)),
            Some(Some(a)) => a.parse::<Action>().map_err(D::Error::custom)?,
        };
        let regex = match raw.regex {
            None => None,
            Some(r) => Some(Regexp::new(&r.unwrap_or_default()).map_err(D::Error::custom)?),
        };
        Ok(RelabelConfig {
            source_labels: raw.source_labels.flatten().unwrap_or_default(),
            separator: string(raw.separator, DEFAULT_SEPARATOR),
            target_label: string(raw.target_label, ""),
            regex,
            modulus: raw.modulus.flatten().unwrap_or(0),
            replacement: string(raw.replacement, DEFAULT_REPLACEMENT),
            action,
            name_validation: NameValidationScheme::default(),
        })
    }
}

#[derive(Serialize)]
struct Out<'a> {
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    source_labels: &'a [String],
    separator: &'a str,
    regex: &'a str,
    #[serde(skip_serializing_if = "is_zero")]
    modulus: u64,
    #[serde(skip_serializing_if = "str::is_empty")]
    target_label: &'a str,
    replacement: &'a str,
    action: &'static str,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl Serialize for RelabelConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Out {
            source_labels: &self.source_labels,
            separator: &self.separator,
            regex: self.regex.as_ref().map_or(DEFAULT_REGEX, Regexp::as_str),
            modulus: self.modulus,
            target_label: &self.target_label,
            replacement: &self.replacement,
            action: self.action.as_str(),
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<RelabelConfig, String> {
        serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let c = parse("target_label: x").unwrap();
        assert_eq!(c.separator, ";");
        assert_eq!(c.replacement, "$1");
        assert_eq!(c.action, Action::Replace);
        assert!(c.regex.is_none());
        assert_eq!(c.effective_regex().as_str(), "(.*)");
    }

    #[test]
    fn null_and_empty_regex_mean_empty() {
        for y in ["regex:", "regex: ''", "regex: ~"] {
            let c = parse(y).unwrap();
            let re = c.regex.as_ref().unwrap();
            assert_eq!(re.as_str(), "", "{y}");
            assert!(re.is_match("") && !re.is_match("a"), "{y}");
        }
    }

    #[test]
    fn actions_and_errors() {
        assert_eq!(parse("action: LabelMap").unwrap().action, Action::LabelMap);
        assert!(parse("action: bogus")
            .unwrap_err()
            .contains(r#"unknown relabel action "bogus""#));
        assert!(parse("action: ''")
            .unwrap_err()
            .contains(r#"unknown relabel action """#));
        assert!(parse("action:")
            .unwrap_err()
            .contains("relabel action cannot be empty"));
        assert!(parse("target: x")
            .unwrap_err()
            .contains("unknown field `target`"));
        assert!(parse("regex: '('")
            .unwrap_err()
            .contains("invalid regular expression"));
        assert!(parse("modulus: -1").is_err());
    }

    #[test]
    fn null_strings_are_empty() {
        let c = parse("replacement:\nseparator:").unwrap();
        assert_eq!(c.replacement, "");
        assert_eq!(c.separator, "");
    }
}
