//! The PromQL parser: lexer, Pratt parser, AST, type checks, printer and the promqltest
//! series-description parser.

pub(crate) mod ast;
mod calls;
mod check;
mod duration;
mod error;
pub(crate) mod functions;
mod lexer;
mod literals;
mod parse;
mod pretty;
mod printer;
mod regex_error;
mod selector;
mod series_desc;

pub use error::{ParseError, ParseErrorKind};
pub use literals::{format_duration, parse_duration};
pub use pretty::prettify;
pub use printer::format_query;
pub use series_desc::{
    parse_series_desc, CounterResetHint, HistogramDesc, SequenceValue, SeriesDesc,
};

use ast::Expr;

/// Parser feature switches (Prometheus's feature flags), passed explicitly instead of globals.
///
/// [`Default`] matches a stock Prometheus 3.x: duration expressions on, other experimental
/// syntax off. [`ParserOptions::all`] turns everything on, as the conformance scripts need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParserOptions {
    /// Experimental functions and the `limitk` / `limit_ratio` aggregations.
    pub experimental_functions: bool,
    /// Arithmetic in ranges, steps and offsets: `[5m+1m]`, `offset -(2*3s)`, `[step()]`.
    pub duration_expressions: bool,
    /// The `anchored` and `smoothed` selector modifiers.
    pub extended_range_selectors: bool,
    /// `fill(v)`, `fill_left(v)` and `fill_right(v)` on binary operators.
    pub binop_fill_modifiers: bool,
}

impl Default for ParserOptions {
    fn default() -> Self {
        ParserOptions {
            experimental_functions: false,
            duration_expressions: true,
            extended_range_selectors: false,
            binop_fill_modifiers: false,
        }
    }
}

impl ParserOptions {
    /// Every feature enabled.
    pub fn all() -> Self {
        ParserOptions {
            experimental_functions: true,
            duration_expressions: true,
            extended_range_selectors: true,
            binop_fill_modifiers: true,
        }
    }
}

/// Parses a query with [`ParserOptions::default`].
pub fn parse(query: &str) -> Result<Expr, ParseError> {
    parse::parse_query(query, &ParserOptions::default())
}

/// Parses a query with the given options.
pub fn parse_with_options(query: &str, opts: &ParserOptions) -> Result<Expr, ParseError> {
    parse::parse_query(query, opts)
}
