//! Recording and alerting rules for Kagari: rule files, alert templates and rule evaluation.
//!
//! - [`rulefmt`]: the Prometheus rule-file format and its validation ([`parse_rule_file`]).
//! - [`template`]: a Go `text/template`-compatible engine with Prometheus's functions.
//! - [`rules`]: recording and alerting rule evaluation ([`Group`], [`AlertingRule`]).
//! - [`unittest`]: promtool-format rule unit tests ([`unittest::run_test_file`]).
//! - [`manager`]: rule files loaded from globs, one thread per group at its evaluation
//!   slots, reloads that keep alert state ([`RuleManager`]).
//! - [`notifier`]: the Alertmanager API v2 client with queues, batching, relabeling and its
//!   metrics ([`Notifier`]).
//!
//! ```
//! use kagari_alerting::{parse_rule_file, ParseOptions};
//!
//! let file = parse_rule_file("rules.yml", "
//! groups:
//!   - name: example
//!     rules:
//!       - alert: HighLoad
//!         expr: node_load1 > 4
//!         for: 5m
//!         annotations:
//!           summary: '{{ $labels.instance }} load is {{ $value | humanize }}'
//! ", &ParseOptions::default()).unwrap();
//! assert_eq!(file.groups[0].rules[0].for_ms, 300_000);
//!
//! let errs = parse_rule_file("bad.yml", "
//! groups:
//!   - name: g
//!     rules:
//!       - record: job:up
//!         expr: sum(up
//! ", &ParseOptions::default()).unwrap_err();
//! assert!(errs[0].to_string().starts_with(
//!     "bad.yml: 6:15: group \"g\", rule 1, \"job:up\": could not parse expression: "));
//! ```
#![forbid(unsafe_code)]

pub mod manager;
pub mod notifier;
pub mod rulefmt;
pub mod rules;
pub mod template;
pub mod unittest;

pub use manager::{AlertSink, GroupHandle, ManagerOptions, RuleManager, SharedStore};
pub use notifier::{Notifier, NotifierConfig, NotifierOptions};
pub use rulefmt::{parse_rule_file, ParseOptions, RuleFile, RuleFileError, RuleGroup};
pub use rules::{
    Alert, AlertState, AlertingRule, Appender, EvalEnv, Group, Health, NotifierAlert,
    RecordingRule, Rule, RuleError, RuleSample, RuleStatus, RuleStore,
};
pub use template::{
    expand_alert_template, AlertTemplate, AlertTemplateData, Context, QueryFn, Template,
    TemplateError,
};
