//! A Go `text/template`-compatible template engine with Prometheus's alert template functions.
//!
//! [`Template::parse`] checks syntax and function names (as Go does at parse time);
//! [`Template::execute`] runs it over a [`Value`] with a [`Context`] carrying the
//! evaluation time, the external URL and an optional [`QueryFn`] for `query`.
//! Maps behave as with Go's `missingkey=zero`: a missing label reads as `""`.
//!
//! For alert labels and annotations use [`expand_alert_template`], which adds the
//! `$labels`/`$value`/`$externalLabels`/`$externalURL` variables exactly as Prometheus does
//! and turns failures into `<error expanding template: …>`.

mod exec;
mod funcs;
mod gofmt;
mod humanize;
mod lex;
mod parse;
pub(crate) mod text;
pub(crate) mod timefmt;
mod value;

use std::sync::Arc;

use kagari_model::Labels;

pub use value::{MapValue, StructValue, Value};

/// Errors from parsing or executing a template, worded as Go's `text/template`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template text does not parse.
    #[error("template: {name}:{line}: {msg}")]
    Parse {
        /// Template name.
        name: String,
        /// 1-based line.
        line: usize,
        /// Reason.
        msg: String,
    },
    /// Execution failed at a command.
    #[error("template: {name}:{line}:{col}: executing {name:?} at <{at}>: {msg}")]
    Exec {
        /// Template name.
        name: String,
        /// 1-based line.
        line: usize,
        /// Byte column as Go reports it (0-based offset within the line).
        col: usize,
        /// The command's source text.
        at: String,
        /// Reason.
        msg: String,
    },
}

/// Runs PromQL for the `query` template function.
pub trait QueryFn {
    /// Evaluates `query` as an instant query at `ts_ms`; a scalar result is one sample with
    /// empty labels.
    fn query(
        &self,
        query: &str,
        ts_ms: i64,
    ) -> Result<Vec<(Labels, f64)>, Box<dyn std::error::Error + Send + Sync>>;
}

/// What template functions may look at besides the data.
#[derive(Clone, Copy, Default)]
pub struct Context<'a> {
    /// Evaluation timestamp in ms (`now`, `query`).
    pub ts_ms: i64,
    /// The external URL (`externalURL`, `pathPrefix`).
    pub external_url: &'a str,
    /// The query engine for `query`, if any.
    pub query: Option<&'a dyn QueryFn>,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("ts_ms", &self.ts_ms)
            .field("external_url", &self.external_url)
            .field("query", &self.query.is_some())
            .finish()
    }
}

/// A parsed template (with its `define`d sub-templates).
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    src: String,
    tree: parse::Tree,
}

impl Template {
    /// Parses `text` as template `name`.
    pub fn parse(name: &str, text: &str) -> Result<Template, TemplateError> {
        let tree = parse::parse(name, text, &funcs::is_function)?;
        Ok(Template {
            name: name.to_string(),
            src: text.to_string(),
            tree,
        })
    }

    /// The template's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Executes the template with `data` as `.` and `$`.
    pub fn execute(&self, data: &Value, ctx: &Context<'_>) -> Result<String, TemplateError> {
        let mut ex = exec::Exec {
            name: &self.name,
            src: &self.src,
            tree: &self.tree,
            ctx,
            vars: vec![("$".to_string(), data.clone())],
            out: String::new(),
            depth: 0,
        };
        ex.run(&self.tree.root, data)?;
        Ok(ex.out)
    }
}

/// The variable definitions Prometheus prepends to every alert label/annotation template.
pub const ALERT_TEMPLATE_DEFS: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// The data alert templates see.
#[derive(Debug, Clone, Default)]
pub struct AlertTemplateData {
    /// Labels of the query result sample (with `__name__` if present).
    pub labels: Labels,
    /// Global external labels.
    pub external_labels: Labels,
    /// The external URL.
    pub external_url: String,
    /// The sample value.
    pub value: f64,
}

impl AlertTemplateData {
    /// The data as a template value (`.Labels`, `.ExternalLabels`, `.ExternalURL`, `.Value`).
    pub fn to_value(&self) -> Value {
        let map = |l: &Labels| Value::string_map(l.iter().map(|l| (&*l.name, &*l.value)));
        Value::Struct(Arc::new(StructValue {
            type_name: "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }",
            fields: vec![
                ("Labels", map(&self.labels)),
                ("ExternalLabels", map(&self.external_labels)),
                ("ExternalURL", Value::Str(self.external_url.clone())),
                ("Value", Value::Float(self.value)),
            ],
        }))
    }
}

fn alert_template_name(alert: &str) -> String {
    format!("__alert_{alert}")
}

/// Checks that an alert label/annotation template parses (rule-file validation).
pub fn check_alert_template(alert: &str, text: &str) -> Result<(), TemplateError> {
    Template::parse(
        &alert_template_name(alert),
        &format!("{ALERT_TEMPLATE_DEFS}{text}"),
    )
    .map(|_| ())
}

/// An alert label/annotation template parsed once (with the `$labels`… definitions), for
/// expanding at every evaluation.
#[derive(Debug, Clone)]
pub struct AlertTemplate {
    name: String,
    parsed: Result<Template, TemplateError>,
}

impl AlertTemplate {
    /// Parses `text` for alert `alert`; a parse error is kept and reported on expansion.
    pub fn new(alert: &str, text: &str) -> AlertTemplate {
        let name = alert_template_name(alert);
        let parsed = Template::parse(&name, &format!("{ALERT_TEMPLATE_DEFS}{text}"));
        AlertTemplate { name, parsed }
    }

    /// Expands over `data` (from [`AlertTemplateData::to_value`]); failures give
    /// `<error expanding template: …>` as upstream does.
    pub fn expand(&self, data: &Value, ctx: &Context<'_>) -> String {
        let name = &self.name;
        match &self.parsed {
            Err(e) => format!("<error expanding template: error parsing template {name}: {e}>"),
            Ok(t) => match t.execute(data, ctx) {
                Ok(s) => s,
                Err(e) => {
                    format!("<error expanding template: error executing template {name}: {e}>")
                }
            },
        }
    }
}

/// Expands an alert label/annotation template once (parse and execute); failures give
/// `<error expanding template: …>` as upstream does.
pub fn expand_alert_template(
    alert: &str,
    text: &str,
    data: &AlertTemplateData,
    ctx: &Context<'_>,
) -> String {
    AlertTemplate::new(alert, text).expand(&data.to_value(), ctx)
}

#[cfg(test)]
mod tests;
