//! PromQL for Kagari: the parser (this crate's first part) and, later, the evaluation engine.
//!
//! [`parse`] turns a query into an [`Expr`] tree that is fully type-checked; printing an
//! [`Expr`] (`to_string()` or [`format_query`]) gives canonical PromQL that parses back to the
//! same tree.
//!
//! ```
//! use kagari_promql::{parse, Expr, ValueType};
//!
//! let expr = parse("sum by(job)(rate(http_requests_total{code=~'5..'}[5m]))").unwrap();
//! assert_eq!(expr.value_type(), ValueType::Vector);
//! assert_eq!(
//!     expr.to_string(),
//!     r#"sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))"#
//! );
//!
//! let err = parse("foo[5m] + 1").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "1:1: parse error: binary expression must contain only scalar and instant vector types"
//! );
//! ```
#![forbid(unsafe_code)]

pub mod engine;
mod parser;
pub mod promqltest;
pub mod storage;

pub use parser::ast::{
    AggregateExpr, AggregateOp, AtModifier, BinaryExpr, BinaryOp, Call, Cardinality,
    DurationContext, DurationExpr, DurationFn, Expr, Grouping, MatrixSelector, NumberLiteral,
    ParenExpr, RangeExtension, Span, StringLiteral, SubqueryExpr, UnaryExpr, UnaryOp, ValueType,
    VectorMatching, VectorSelector,
};
pub use parser::functions::{function, function_by_name, Function, FunctionId, FUNCTIONS};
pub use parser::{
    format_duration, format_query, parse, parse_duration, parse_series_desc, parse_with_options,
    prettify, CounterResetHint, HistogramDesc, ParseError, ParseErrorKind, ParserOptions,
    SequenceValue, SeriesDesc,
};
