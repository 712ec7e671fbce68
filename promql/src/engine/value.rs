//! Query result values: scalars, strings, instant vectors and matrices, plus annotations.

use std::fmt;

use kagari_model::Labels;

pub use super::functions::FPoint;

/// One sample of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series labels.
    pub metric: Labels,
    /// Evaluation timestamp (ms).
    pub t: i64,
    /// The value.
    pub f: f64,
    /// Whether `__name__` must be removed when evaluation ends (delayed name removal).
    pub drop_name: bool,
}

/// An instant vector.
pub type Vector = Vec<Sample>;

/// One series of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series labels.
    pub metric: Labels,
    /// Points in time order.
    pub floats: Vec<FPoint>,
    /// Whether `__name__` must be removed when evaluation ends (delayed name removal).
    pub drop_name: bool,
}

/// A range vector / range query result.
pub type Matrix = Vec<Series>;

/// The result of evaluating an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number at a time.
    Scalar {
        /// Timestamp (ms).
        t: i64,
        /// Value.
        f: f64,
    },
    /// A string at a time.
    String {
        /// Timestamp (ms).
        t: i64,
        /// Value.
        s: String,
    },
    /// An instant vector.
    Vector(Vector),
    /// A range vector or range-query result.
    Matrix(Matrix),
}

impl Value {
    /// The PromQL type name (`scalar`, `string`, `vector`, `matrix`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar { .. } => "scalar",
            Value::String { .. } => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}

/// Warnings and infos collected while evaluating, with their full `PromQL warning: ` /
/// `PromQL info: ` prefixed texts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotations {
    /// Warning texts, deduplicated, in order of first occurrence.
    pub warnings: Vec<String>,
    /// Info texts, deduplicated, in order of first occurrence.
    pub infos: Vec<String>,
}

impl Annotations {
    /// Adds a warning (the prefix is added here).
    pub fn warn(&mut self, msg: impl fmt::Display) {
        let s = format!("PromQL warning: {msg}");
        if !self.warnings.contains(&s) {
            self.warnings.push(s);
        }
    }

    /// Adds an info (the prefix is added here).
    pub fn info(&mut self, msg: impl fmt::Display) {
        let s = format!("PromQL info: {msg}");
        if !self.infos.contains(&s) {
            self.infos.push(s);
        }
    }

    /// Adds all of `other`.
    pub fn merge(&mut self, other: Annotations) {
        for w in other.warnings {
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
        for i in other.infos {
            if !self.infos.contains(&i) {
                self.infos.push(i);
            }
        }
    }
}
