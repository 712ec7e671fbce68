//! Config-time validation of relabel rules, with Prometheus's error messages
//! (`model/relabel/relabel.go`, `Config.Validate`).

use std::sync::OnceLock;

use super::{Action, RelabelConfig, DEFAULT_REPLACEMENT, DEFAULT_SEPARATOR};
use crate::NameValidationScheme;

/// Why a relabel rule is invalid. The messages are Prometheus's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelabelConfigError {
    /// `action:` present but null.
    #[error("relabel action cannot be empty")]
    EmptyAction,
    /// An action name Prometheus does not know.
    #[error("unknown relabel action {action:?}")]
    UnknownAction {
        /// The name as written.
        action: String,
    },
    /// `hashmod` with `modulus: 0`.
    #[error("relabel configuration for hashmod requires non-zero modulus")]
    ZeroModulus,
    /// An action that writes or compares a label but has no `target_label`.
    #[error("relabel configuration for {action} action requires 'target_label' value")]
    MissingTargetLabel {
        /// The action.
        action: Action,
    },
    /// `target_label` is not a valid label name (or label-name template for `replace`).
    #[error("{target:?} is invalid 'target_label' for {action} action")]
    InvalidTargetLabel {
        /// The target label as written.
        target: String,
        /// The action.
        action: Action,
    },
    /// `replacement` set on an action that ignores it.
    #[error("'replacement' can not be set for {action} action")]
    ReplacementNotAllowed {
        /// The action.
        action: Action,
    },
    /// `labelmap` with a `replacement` that cannot produce a label name.
    #[error("{replacement:?} is invalid 'replacement' for {action} action")]
    InvalidReplacement {
        /// The replacement as written.
        replacement: String,
        /// The action.
        action: Action,
    },
    /// `keepequal`/`dropequal` with fields they do not use.
    #[error(
        "{action} action requires only 'source_labels' and `target_label`, and no other fields"
    )]
    EqualActionExtraFields {
        /// The action.
        action: Action,
    },
    /// `labeldrop`/`labelkeep` with fields they do not use.
    #[error("{action} action requires only 'regex', and no other fields")]
    LabelActionExtraFields {
        /// The action.
        action: Action,
    },
    /// A source label name that is not valid under the naming scheme.
    #[error("{name:?} is not a valid label name")]
    InvalidSourceLabel {
        /// The name as written.
        name: String,
    },
}

impl RelabelConfig {
    /// Checks the rule the way Prometheus does when loading a configuration, under
    /// [`name_validation`](Self::name_validation).
    pub fn validate(&self) -> Result<(), RelabelConfigError> {
        let scheme = self.name_validation;
        let action = self.action;
        let target = self.target_label.as_str();
        let valid_name = |s: &str| scheme.is_valid_label_name(s);
        let has_var = |s: &str| s.contains('$');

        if let Some(bad) = self.source_labels.iter().find(|n| !valid_name(n)) {
            return Err(RelabelConfigError::InvalidSourceLabel { name: bad.clone() });
        }
        if action == Action::HashMod && self.modulus == 0 {
            return Err(RelabelConfigError::ZeroModulus);
        }
        let writes_target = matches!(
            action,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        );
        if writes_target && target.is_empty() {
            return Err(RelabelConfigError::MissingTargetLabel { action });
        }
        let invalid_target = || RelabelConfigError::InvalidTargetLabel {
            target: target.to_string(),
            action,
        };
        if action == Action::Replace {
            let ok = if has_var(target) {
                is_valid_name_template(target, scheme)
            } else {
                valid_name(target)
            };
            if !ok {
                return Err(invalid_target());
            }
        }
        let simple_target = matches!(
            action,
            Action::Lowercase | Action::Uppercase | Action::KeepEqual | Action::DropEqual
        );
        if simple_target && !valid_name(target) {
            return Err(invalid_target());
        }
        if simple_target && self.replacement != DEFAULT_REPLACEMENT {
            return Err(RelabelConfigError::ReplacementNotAllowed { action });
        }
        if action == Action::LabelMap && !is_valid_name_template(&self.replacement, scheme) {
            return Err(RelabelConfigError::InvalidReplacement {
                replacement: self.replacement.clone(),
                action,
            });
        }
        if action == Action::HashMod && !valid_name(target) {
            return Err(invalid_target());
        }
        let defaults_only = self.modulus == 0
            && self.separator == DEFAULT_SEPARATOR
            && self.replacement == DEFAULT_REPLACEMENT;
        if matches!(action, Action::KeepEqual | Action::DropEqual)
            && (self.regex.is_some() || !defaults_only)
        {
            return Err(RelabelConfigError::EqualActionExtraFields { action });
        }
        if matches!(action, Action::LabelDrop | Action::LabelKeep)
            && (!self.source_labels.is_empty() || !target.is_empty() || !defaults_only)
        {
            return Err(RelabelConfigError::LabelActionExtraFields { action });
        }
        Ok(())
    }
}

/// Whether `s` can expand to a label name: under UTF-8 any non-empty string; under the legacy
/// scheme it must match Prometheus's `relabelTargetLegacy`
/// (`^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$`).
fn is_valid_name_template(s: &str, scheme: NameValidationScheme) -> bool {
    match scheme {
        NameValidationScheme::Utf8 => !s.is_empty(),
        NameValidationScheme::Legacy => legacy_template().is_match(s),
    }
}

fn legacy_template() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    // A constant pattern: compiling it cannot fail.
    RE.get_or_init(|| {
        crate::compile_regex(r"(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+")
            .expect("the label-name template regex compiles")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_templates() {
        let ok = |s| is_valid_name_template(s, NameValidationScheme::Legacy);
        assert!(ok("foo") && ok("${1}") && ok("$1_x") && ok("a${b}c") && ok("$a"));
        assert!(!ok("1a") && !ok("") && !ok("a-b") && !ok("$") && !ok("${}"));
        assert!(is_valid_name_template("a-b", NameValidationScheme::Utf8));
    }
}
