//! Template values: the dynamic types templates work with, Go truthiness and `%v` printing.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

use super::gofmt::format_float;

/// A map value; `missing` is what a lookup of an absent key yields (`""` for label maps, as
/// with Go's `missingkey=zero` on `map[string]string`).
#[derive(Debug, Clone, PartialEq)]
pub struct MapValue {
    /// The entries, sorted by key.
    pub entries: BTreeMap<String, Value>,
    /// The zero value returned for missing keys.
    pub missing: Value,
}

/// A struct value: named fields (field access on an unknown name is an error).
#[derive(Debug, Clone, PartialEq)]
pub struct StructValue {
    /// The Go type name, for error messages (e.g. `template.tmplData`).
    pub type_name: &'static str,
    /// Fields in declaration order.
    pub fields: Vec<(&'static str, Value)>,
}

/// A dynamically typed template value.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum Value {
    /// No value (missing, untyped nil).
    #[default]
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer (Go `int`).
    Int(i64),
    /// A float (Go `float64`).
    Float(f64),
    /// A string.
    Str(String),
    /// A string marked safe for HTML (`safeHtml`).
    SafeHtml(String),
    /// A map with string keys.
    Map(Arc<MapValue>),
    /// A list.
    List(Arc<Vec<Value>>),
    /// A struct (template data, query samples).
    Struct(Arc<StructValue>),
    /// A point in time, nanoseconds since the Unix epoch (UTC).
    Time(i128),
    /// A duration in nanoseconds.
    Duration(i64),
}

impl Value {
    /// A string map whose missing keys read as `""`.
    pub fn string_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
        Value::Map(Arc::new(MapValue {
            entries: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::Str(v.to_string())))
                .collect(),
            missing: Value::Str(String::new()),
        }))
    }

    /// Go's type name of the value (for error messages).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::SafeHtml(_) => "template.HTML",
            Value::Map(m) => {
                if matches!(m.missing, Value::Str(_)) {
                    "map[string]string"
                } else {
                    "map[string]interface {}"
                }
            }
            Value::List(_) => "[]interface {}",
            Value::Struct(s) => s.type_name,
            Value::Time(_) => "*time.Time",
            Value::Duration(_) => "*time.Duration",
        }
    }

    /// Go template truthiness: zero values and empty collections are false.
    pub fn truth(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) | Value::SafeHtml(s) => !s.is_empty(),
            Value::Map(m) => !m.entries.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Struct(_) | Value::Time(_) | Value::Duration(_) => true,
        }
    }

    /// Writes the value as Go's `fmt.Print` / `%v` would.
    pub fn write_go(&self, out: &mut String) {
        match self {
            Value::Nil => out.push_str("<nil>"),
            Value::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&format_float(*f, 'g', None)),
            Value::Str(s) | Value::SafeHtml(s) => out.push_str(s),
            Value::Map(m) => {
                out.push_str("map[");
                for (i, (k, v)) in m.entries.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.write_go(out);
                }
                out.push(']');
            }
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    v.write_go(out);
                }
                out.push(']');
            }
            Value::Struct(s) => {
                out.push('{');
                for (i, (_, v)) in s.fields.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    v.write_go(out);
                }
                out.push('}');
            }
            Value::Time(ns) => out.push_str(&super::timefmt::time_string(*ns)),
            Value::Duration(ns) => out.push_str(&super::timefmt::duration_string(*ns)),
        }
    }

    /// The value printed with `%v`.
    pub fn to_go_string(&self) -> String {
        let mut s = String::new();
        self.write_go(&mut s);
        s
    }

    /// Whether this is a string (Go `fmt.Sprint` puts no space next to strings).
    pub(super) fn is_string(&self) -> bool {
        matches!(self, Value::Str(_) | Value::SafeHtml(_))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}
