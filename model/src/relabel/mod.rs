//! Relabeling: Prometheus's `relabel_config` rules, applied to label sets.
//!
//! - `mod.rs`: the [`RelabelConfig`] and [`Action`] types;
//! - `yaml.rs`: reading and writing them as Prometheus YAML (serde);
//! - `validate.rs`: config-time checks with Prometheus's error messages;
//! - `process.rs`: applying a list of rules ([`relabel`], [`relabel_builder`]).

mod process;
mod validate;
mod yaml;

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use crate::{NameValidationScheme, Regexp};

pub use process::{relabel, relabel_builder};
pub use validate::RelabelConfigError;

/// What a relabel rule does; see the Prometheus `<relabel_config>` documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Action {
    /// Set `target_label` to the expanded `replacement` when `regex` matches.
    #[default]
    Replace,
    /// Drop the label set unless `regex` matches the source value.
    Keep,
    /// Drop the label set when `regex` matches the source value.
    Drop,
    /// Drop the label set unless the source value equals `target_label`'s value.
    KeepEqual,
    /// Drop the label set when the source value equals `target_label`'s value.
    DropEqual,
    /// Set `target_label` to the MD5-based hash of the source value modulo `modulus`.
    HashMod,
    /// Copy every label whose name matches `regex` to the name given by `replacement`.
    LabelMap,
    /// Remove every label whose name matches `regex`.
    LabelDrop,
    /// Remove every label whose name does not match `regex`.
    LabelKeep,
    /// Set `target_label` to the lower-cased source value.
    Lowercase,
    /// Set `target_label` to the upper-cased source value.
    Uppercase,
}

impl Action {
    /// Every action, in documentation order.
    pub const ALL: [Action; 11] = [
        Action::Replace,
        Action::Keep,
        Action::Drop,
        Action::KeepEqual,
        Action::DropEqual,
        Action::HashMod,
        Action::LabelMap,
        Action::LabelDrop,
        Action::LabelKeep,
        Action::Lowercase,
        Action::Uppercase,
    ];

    /// The name used in configuration files (lower case).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses an action name case-insensitively, as Prometheus does (`Keep` is `keep`).
impl FromStr for Action {
    type Err = RelabelConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_lowercase();
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == lower)
            .ok_or_else(|| RelabelConfigError::UnknownAction {
                action: s.to_string(),
            })
    }
}

/// The default separator between source label values.
pub(crate) const DEFAULT_SEPARATOR: &str = ";";
/// The default replacement template.
pub(crate) const DEFAULT_REPLACEMENT: &str = "$1";
/// The default regex, used when the configuration does not set one.
pub(crate) const DEFAULT_REGEX: &str = "(.*)";

/// One relabeling rule, as written under `relabel_configs` and friends.
///
/// Build one with struct-update syntax over [`Default`], or deserialise Prometheus YAML with
/// serde (unknown fields are rejected, the action is case-insensitive). Run
/// [`validate`](Self::validate) before use, as Prometheus does at config load.
///
/// ```
/// use kagari_model::{Action, RelabelConfig};
/// let rule = RelabelConfig {
///     source_labels: vec!["__name__".into()],
///     regex: Some(kagari_model::Regexp::new("go_.*").unwrap()),
///     action: Action::Drop,
///     ..Default::default()
/// };
/// assert!(rule.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RelabelConfig {
    /// Labels whose values are joined with `separator` to form the source value.
    pub source_labels: Vec<String>,
    /// Placed between source values (default `;`).
    pub separator: String,
    /// The label written by `replace`, `hashmod`, `lowercase`, `uppercase`, and compared by
    /// `keepequal`/`dropequal`. May contain `$` templates for `replace`.
    pub target_label: String,
    /// The regex; `None` means "not written", which acts as `(.*)` and enables the `replace`
    /// fast path. `Some` of `(.*)` is *not* the same thing, as in Prometheus.
    pub regex: Option<Regexp>,
    /// The modulus for `hashmod`.
    pub modulus: u64,
    /// The replacement template (default `$1`).
    pub replacement: String,
    /// What the rule does.
    pub action: Action,
    /// How label names are validated, from the scrape config or global config (not part of
    /// the YAML of a rule). Prometheus 3 defaults to UTF-8.
    pub name_validation: NameValidationScheme,
}

impl Default for RelabelConfig {
    fn default() -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: DEFAULT_SEPARATOR.to_string(),
            target_label: String::new(),
            regex: None,
            modulus: 0,
            replacement: DEFAULT_REPLACEMENT.to_string(),
            action: Action::Replace,
            name_validation: NameValidationScheme::default(),
        }
    }
}

impl RelabelConfig {
    /// The regex in effect: the configured one, or the shared default `(.*)`.
    pub fn effective_regex(&self) -> &Regexp {
        match &self.regex {
            Some(r) => r,
            None => default_regex(),
        }
    }
}

fn default_regex() -> &'static Regexp {
    static DEFAULT: OnceLock<Regexp> = OnceLock::new();
    // A constant pattern, not input: compiling it cannot fail.
    DEFAULT.get_or_init(|| Regexp::new(DEFAULT_REGEX).expect("the default relabel regex compiles"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_round_trip_case_insensitively() {
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>().unwrap(), a);
            assert_eq!(a.as_str().to_uppercase().parse::<Action>().unwrap(), a);
        }
        let err = "frobnicate".parse::<Action>().unwrap_err();
        assert_eq!(err.to_string(), r#"unknown relabel action "frobnicate""#);
    }

    #[test]
    fn default_regex_is_dot_star_capture() {
        let c = RelabelConfig::default();
        assert_eq!(c.effective_regex().as_str(), "(.*)");
        assert!(c.effective_regex().is_match("anything\nat all"));
    }
}
