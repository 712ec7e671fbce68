//! Rule files: the Prometheus YAML format (`groups:` of recording and alerting rules) and its
//! validation, with the messages `promtool check rules` prints.
//!
//! [`parse_rule_file`] decodes the first YAML document strictly (unknown keys are errors),
//! then validates every group and rule. All problems are reported at once, each with the
//! file name and, where the source layout allows it, the line and column of the offending
//! YAML value.

mod locate;
mod validate;

use std::collections::BTreeMap;
use std::fmt;

use kagari_model::NameValidationScheme;
use serde::Deserialize;

use locate::Locations;

/// A 1-based line and column in a rule file (`0:0` when unknown, as upstream prints it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pos {
    /// Line, 1-based.
    pub line: usize,
    /// Column, 1-based.
    pub col: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// One problem found while loading a rule file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleFileError {
    /// The YAML could not be decoded (syntax, unknown field, wrong type).
    #[error("{file}: {message}")]
    Yaml {
        /// File name as given.
        file: String,
        /// The decoder's message, with its location.
        message: String,
    },
    /// A group-level problem.
    #[error("{file}: {}{kind}", pos.map(|p| format!("{p}: ")).unwrap_or_default())]
    Group {
        /// File name.
        file: String,
        /// Where the group starts, when known.
        pos: Option<Pos>,
        /// What is wrong.
        kind: GroupErrorKind,
    },
    /// A rule-level problem: `<file>: <line>:<col>: group "<g>", rule <n>, "<name>": <msg>`.
    #[error("{file}: {}group {group:?}, rule {index}, {name:?}: {kind}", fmt_pos(*pos, *pos_alt))]
    Rule {
        /// File name.
        file: String,
        /// Position of the YAML value the error is about, if any.
        pos: Option<Pos>,
        /// A second position (the `alert` value when both `record` and `alert` are involved).
        pos_alt: Option<Pos>,
        /// Group name.
        group: String,
        /// 1-based index of the rule within its group.
        index: usize,
        /// The rule's `record` or `alert` name.
        name: String,
        /// What is wrong.
        kind: RuleErrorKind,
    },
}

fn fmt_pos(pos: Option<Pos>, alt: Option<Pos>) -> String {
    match (pos, alt) {
        (Some(p), Some(a)) => format!("{p}: {a}: "),
        (Some(p), None) => format!("{p}: "),
        _ => String::new(),
    }
}

/// Group-level validation failures.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupErrorKind {
    /// `name` is empty or missing.
    #[error("Groupname must not be empty")]
    EmptyName,
    /// Two groups of one file share a name.
    #[error("groupname: \"{0}\" is repeated in the same file")]
    Repeated(String),
    /// A group label name is invalid.
    #[error("invalid label name: {0}")]
    InvalidLabelName(String),
    /// A duration field does not parse.
    #[error("not a valid duration string: {0:?}")]
    BadDuration(String),
}

/// Rule-level validation failures.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleErrorKind {
    /// Both `record` and `alert` are set.
    #[error("only one of 'record' and 'alert' must be set")]
    BothRecordAndAlert,
    /// Neither `record` nor `alert` is set.
    #[error("one of 'record' or 'alert' must be set")]
    NeitherRecordNorAlert,
    /// `expr` is empty.
    #[error("field 'expr' must be set in rule")]
    MissingExpr,
    /// `expr` does not parse.
    #[error("could not parse expression: {0}")]
    BadExpr(String),
    /// A field only alerting rules may have appears on a recording rule.
    #[error("invalid field '{0}' in recording rule")]
    FieldInRecordingRule(&'static str),
    /// The recording rule name is not a valid metric name.
    #[error("invalid recording rule name: {0}")]
    InvalidRecordName(String),
    /// The recording rule name contains `{` or `}`.
    #[error("braces present in the recording rule name; should it be in expr?: {0}")]
    BracesInRecordName(String),
    /// A rule label name is invalid (or `__name__`).
    #[error("invalid label name: {0}")]
    InvalidLabelName(String),
    /// An annotation name is invalid.
    #[error("invalid annotation name: {0}")]
    InvalidAnnotationName(String),
    /// A duration field does not parse.
    #[error("not a valid duration string: {0:?}")]
    BadDuration(String),
    /// A label template does not parse.
    #[error("label {0:?}: {1}")]
    LabelTemplate(String, String),
    /// An annotation template does not parse.
    #[error("annotation {0:?}: {1}")]
    AnnotationTemplate(String, String),
}

/// Options for [`parse_rule_file`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions {
    /// How label and metric names are validated (Prometheus 3 default: UTF-8).
    pub name_validation: NameValidationScheme,
    /// Skip the PromQL parse check of `expr` (promtool `--ignore-unknown-fields` style tools).
    pub skip_expr_check: bool,
}

/// A parsed and validated rule file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleFile {
    /// The groups in file order.
    pub groups: Vec<RuleGroup>,
    /// Warnings (e.g. more than one YAML document).
    pub warnings: Vec<String>,
}

/// One rule group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleGroup {
    /// The group name (unique within its file).
    pub name: String,
    /// Evaluation interval in ms, if set.
    pub interval: Option<i64>,
    /// Query offset in ms, if set.
    pub query_offset: Option<i64>,
    /// Alert / series limit (0 = unlimited).
    pub limit: usize,
    /// Labels added to every rule's output (rule labels win).
    pub labels: BTreeMap<String, String>,
    /// The rules in file order.
    pub rules: Vec<Rule>,
}

/// One recording or alerting rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rule {
    /// Recording rule: the output metric name.
    pub record: Option<String>,
    /// Alerting rule: the alert name.
    pub alert: Option<String>,
    /// The PromQL expression.
    pub expr: String,
    /// `for` in ms.
    pub for_ms: i64,
    /// `keep_firing_for` in ms.
    pub keep_firing_for_ms: i64,
    /// Labels (templates for alerting rules).
    pub labels: BTreeMap<String, String>,
    /// Annotations (alerting rules only; templates).
    pub annotations: BTreeMap<String, String>,
}

impl Rule {
    /// The rule's name: `alert`, else `record` (as upstream names rules in errors).
    pub fn name(&self) -> &str {
        self.alert
            .as_deref()
            .or(self.record.as_deref())
            .unwrap_or("")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    groups: Vec<RawGroup>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    name: String,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    query_offset: Option<String>,
    #[serde(default)]
    limit: usize,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    record: Option<String>,
    #[serde(default)]
    alert: Option<String>,
    #[serde(default)]
    expr: String,
    #[serde(default, rename = "for")]
    for_: Option<String>,
    #[serde(default)]
    keep_firing_for: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// Parses and validates the rule file `content` (named `file` in messages).
///
/// Returns every problem found; on success the groups are ready for evaluation.
pub fn parse_rule_file(
    file: &str,
    content: &str,
    opts: &ParseOptions,
) -> Result<RuleFile, Vec<RuleFileError>> {
    let mut warnings = Vec::new();
    let mut docs = serde_yaml_ng::Deserializer::from_str(content);
    let raw: RawFile = match docs.next() {
        None => RawFile::default(),
        Some(doc) => match Option::<RawFile>::deserialize(doc) {
            Ok(r) => r.unwrap_or_default(),
            Err(e) => {
                return Err(vec![RuleFileError::Yaml {
                    file: file.to_string(),
                    message: go_yaml_message(&e),
                }])
            }
        },
    };
    if docs.next().is_some() {
        warnings.push(format!(
            "{file}: only the first YAML document is used, the others are ignored"
        ));
    }
    // Durations are decoded by the YAML unmarshaller upstream: a bad one is the only error.
    if let Some(bad) = validate::first_bad_duration(&raw) {
        return Err(vec![RuleFileError::Yaml {
            file: file.to_string(),
            message: format!(
                "not a valid duration string: {}",
                kagari_model::quote_go(&bad)
            ),
        }]);
    }
    let locs = Locations::scan(content, raw.groups.iter().map(|g| g.rules.len()).sum());
    let mut errs = Vec::new();
    let groups = validate::validate(file, raw, &locs, opts, &mut errs);
    if errs.is_empty() {
        Ok(RuleFile { groups, warnings })
    } else {
        Err(errs)
    }
}

/// Rewords serde's unknown-field error as Go's yaml.v3 does
/// (`yaml: unmarshal errors:\n  line 6: field x not found in type rulefmt.RuleNode`).
fn go_yaml_message(e: &serde_yaml_ng::Error) -> String {
    let msg = e.to_string();
    let field = msg
        .split_once("unknown field `")
        .and_then(|(_, r)| r.split_once('`'))
        .map(|(f, _)| f);
    match (field, e.location()) {
        (Some(f), Some(loc)) => {
            let path = msg.split_once(": unknown field").map_or("", |(p, _)| p);
            let ty = if path.contains(".rules[") {
                "rulefmt.RuleNode"
            } else if path.starts_with("groups[") {
                "rulefmt.RuleGroup"
            } else {
                "rulefmt.RuleGroups"
            };
            format!(
                "yaml: unmarshal errors:\n  line {}: field {f} not found in type {ty}",
                loc.line()
            )
        }
        _ => msg,
    }
}

#[cfg(test)]
mod tests;
