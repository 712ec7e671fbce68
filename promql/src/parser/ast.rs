//! The PromQL syntax tree the parser produces and the engine evaluates.
//!
//! Every node carries a [`Span`] (byte offsets into the query). Spans are ignored by equality,
//! so two trees that differ only in layout compare equal.

use std::fmt;

use kagari_model::Matcher;

use super::functions::Function;

pub(crate) use super::duration::seconds_to_millis;
pub use super::duration::{DurationContext, DurationExpr, DurationFn};

/// A byte range in the query. Equality always holds: spans never make trees unequal.
#[derive(Debug, Clone, Copy, Default, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl PartialEq for Span {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// The type of value an expression evaluates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// A single float.
    Scalar,
    /// A set of series with one sample each.
    Vector,
    /// A set of series with a range of samples each.
    Matrix,
    /// A string.
    String,
}

impl ValueType {
    /// The name the HTTP API uses for the type (`resultType`): `scalar`, `vector`, `matrix`,
    /// `string`. `Display` gives the documented name (`instant vector`, `range vector`).
    pub fn api_name(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::Vector => "vector",
            ValueType::Matrix => "matrix",
            ValueType::String => "string",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueType::Scalar => "scalar",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            ValueType::String => "string",
        })
    }
}

/// A PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `1`, `0x1f`, `Inf`, `5m` (a duration used as a number of seconds).
    Number(NumberLiteral),
    /// `"foo"`.
    String(StringLiteral),
    /// `foo{a="b"} offset 5m @ 100`.
    VectorSelector(VectorSelector),
    /// `foo[5m]`.
    MatrixSelector(MatrixSelector),
    /// `expr[5m:1m]`.
    Subquery(SubqueryExpr),
    /// `rate(foo[5m])`.
    Call(Call),
    /// `sum by (job) (foo)`.
    Aggregate(AggregateExpr),
    /// `a + on(x) b`.
    Binary(BinaryExpr),
    /// `-a` (a unary minus directly on a number is folded into the literal).
    Unary(UnaryExpr),
    /// `(a)`.
    Paren(ParenExpr),
}

impl Expr {
    /// The type this expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::Number(_) => ValueType::Scalar,
            Expr::String(_) => ValueType::String,
            Expr::VectorSelector(_) | Expr::Aggregate(_) => ValueType::Vector,
            Expr::MatrixSelector(_) | Expr::Subquery(_) => ValueType::Matrix,
            Expr::Call(c) => c.func.return_type,
            Expr::Binary(b) => {
                if b.lhs.value_type() == ValueType::Scalar
                    && b.rhs.value_type() == ValueType::Scalar
                {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            Expr::Unary(u) => u.expr.value_type(),
            Expr::Paren(p) => p.expr.value_type(),
        }
    }

    /// The node's position in the query.
    pub fn span(&self) -> Span {
        match self {
            Expr::Number(n) => n.span,
            Expr::String(s) => s.span,
            Expr::VectorSelector(v) => v.span,
            Expr::MatrixSelector(m) => m.span,
            Expr::Subquery(s) => s.span,
            Expr::Call(c) => c.span,
            Expr::Aggregate(a) => a.span,
            Expr::Binary(b) => b.span,
            Expr::Unary(u) => u.span,
            Expr::Paren(p) => p.span,
        }
    }
}

/// A number literal. Equality treats all NaNs as equal.
#[derive(Debug, Clone, Copy)]
pub struct NumberLiteral {
    /// The value (for durations: seconds).
    pub value: f64,
    /// Whether it was written as a duration (`5m`) and prints as one.
    pub duration: bool,
    /// Position.
    pub span: Span,
}

impl PartialEq for NumberLiteral {
    fn eq(&self, o: &Self) -> bool {
        let same = self.value == o.value || (self.value.is_nan() && o.value.is_nan());
        same && self.duration == o.duration
    }
}

/// A string literal (escapes already resolved).
#[derive(Debug, Clone, PartialEq)]
pub struct StringLiteral {
    /// The unquoted value. Invalid UTF-8 produced by `\x` escapes is replaced by U+FFFD.
    pub value: String,
    /// Position.
    pub span: Span,
}

/// The time an `@` modifier pins evaluation to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtModifier {
    /// `@ <seconds>`, stored in milliseconds.
    Timestamp(i64),
    /// `@ start()`: the start of the query range.
    Start,
    /// `@ end()`: the end of the query range.
    End,
}

/// The experimental `anchored` / `smoothed` selector modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeExtension {
    /// `anchored`
    Anchored,
    /// `smoothed`
    Smoothed,
}

impl RangeExtension {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            RangeExtension::Anchored => "anchored",
            RangeExtension::Smoothed => "smoothed",
        }
    }
}

/// An instant vector selector. For a range selector the modifiers live here too.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSelector {
    /// The metric name if written (`foo{...}` or `{"foo", ...}`).
    pub name: Option<String>,
    /// All matchers, including `__name__="<name>"` first when `name` is set.
    pub matchers: Vec<Matcher>,
    /// `offset <duration>` as written (negative = into the future).
    pub offset: Option<DurationExpr>,
    /// `@ ...`.
    pub at: Option<AtModifier>,
    /// `anchored` / `smoothed`.
    pub extension: Option<RangeExtension>,
    /// Position.
    pub span: Span,
}

/// `selector[range]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSelector {
    /// The selector, holding the offset, `@` and extension modifiers.
    pub vector: VectorSelector,
    /// The range.
    pub range: DurationExpr,
    /// Position.
    pub span: Span,
}

/// `expr[range:step]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubqueryExpr {
    /// The inner expression (an instant vector).
    pub expr: Box<Expr>,
    /// The range.
    pub range: DurationExpr,
    /// The resolution; `None` means the engine's default step.
    pub step: Option<DurationExpr>,
    /// `offset ...`.
    pub offset: Option<DurationExpr>,
    /// `@ ...`.
    pub at: Option<AtModifier>,
    /// Position.
    pub span: Span,
}

/// A function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The signature; dispatch on `func.id`.
    pub func: &'static Function,
    /// The arguments, type-checked against the signature.
    pub args: Vec<Expr>,
    /// Position.
    pub span: Span,
}

/// Aggregation operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateOp {
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `count`
    Count,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `group`
    Group,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `topk(k, v)`
    Topk,
    /// `bottomk(k, v)`
    Bottomk,
    /// `quantile(q, v)`
    Quantile,
    /// `count_values("label", v)`
    CountValues,
    /// `limitk(k, v)` (experimental)
    Limitk,
    /// `limit_ratio(r, v)` (experimental)
    LimitRatio,
}

impl AggregateOp {
    /// All operators.
    pub const ALL: [AggregateOp; 14] = [
        AggregateOp::Sum,
        AggregateOp::Avg,
        AggregateOp::Count,
        AggregateOp::Min,
        AggregateOp::Max,
        AggregateOp::Group,
        AggregateOp::Stddev,
        AggregateOp::Stdvar,
        AggregateOp::Topk,
        AggregateOp::Bottomk,
        AggregateOp::Quantile,
        AggregateOp::CountValues,
        AggregateOp::Limitk,
        AggregateOp::LimitRatio,
    ];

    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateOp::Sum => "sum",
            AggregateOp::Avg => "avg",
            AggregateOp::Count => "count",
            AggregateOp::Min => "min",
            AggregateOp::Max => "max",
            AggregateOp::Group => "group",
            AggregateOp::Stddev => "stddev",
            AggregateOp::Stdvar => "stdvar",
            AggregateOp::Topk => "topk",
            AggregateOp::Bottomk => "bottomk",
            AggregateOp::Quantile => "quantile",
            AggregateOp::CountValues => "count_values",
            AggregateOp::Limitk => "limitk",
            AggregateOp::LimitRatio => "limit_ratio",
        }
    }

    /// Parses a keyword, case-insensitively.
    pub fn from_keyword(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(s))
    }

    /// The type of the parameter, if the operator takes one.
    pub fn param_type(self) -> Option<ValueType> {
        match self {
            AggregateOp::Topk
            | AggregateOp::Bottomk
            | AggregateOp::Quantile
            | AggregateOp::Limitk
            | AggregateOp::LimitRatio => Some(ValueType::Scalar),
            AggregateOp::CountValues => Some(ValueType::String),
            _ => None,
        }
    }
}

/// Which labels an aggregation keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grouping {
    /// `by (...)`; an empty list (also when no clause is written) aggregates everything.
    By(Vec<String>),
    /// `without (...)`.
    Without(Vec<String>),
}

/// `op by (labels) (param, expr)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateExpr {
    /// The operator.
    pub op: AggregateOp,
    /// The aggregated expression (an instant vector).
    pub expr: Box<Expr>,
    /// The parameter of `topk`, `quantile`, `count_values`, ...
    pub param: Option<Box<Expr>>,
    /// `by` / `without`.
    pub grouping: Grouping,
    /// Position.
    pub span: Span,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `atan2`
    Atan2,
    /// `==`
    Eql,
    /// `!=`
    Neq,
    /// `>`
    Gtr,
    /// `<`
    Lss,
    /// `>=`
    Gte,
    /// `<=`
    Lte,
    /// `</`: keeps the histogram observations below the scalar (native histograms).
    TrimUpper,
    /// `>/`: keeps the histogram observations above the scalar (native histograms).
    TrimLower,
    /// `and`
    And,
    /// `or`
    Or,
    /// `unless`
    Unless,
}

impl BinaryOp {
    /// The operator as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Eql => "==",
            BinaryOp::Neq => "!=",
            BinaryOp::Gtr => ">",
            BinaryOp::Lss => "<",
            BinaryOp::Gte => ">=",
            BinaryOp::Lte => "<=",
            BinaryOp::TrimUpper => "</",
            BinaryOp::TrimLower => ">/",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Unless => "unless",
        }
    }

    /// Whether this is a comparison (filters unless `bool`).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eql
                | BinaryOp::Neq
                | BinaryOp::Gtr
                | BinaryOp::Lss
                | BinaryOp::Gte
                | BinaryOp::Lte
        )
    }

    /// Whether this is `and`, `or` or `unless`.
    pub fn is_set_operator(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }

    /// Binding precedence, 1 (`or`) to 6 (`^`).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And | BinaryOp::Unless => 2,
            BinaryOp::Eql
            | BinaryOp::Neq
            | BinaryOp::Gtr
            | BinaryOp::Lss
            | BinaryOp::Gte
            | BinaryOp::Lte => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Mod
            | BinaryOp::Atan2
            | BinaryOp::TrimUpper
            | BinaryOp::TrimLower => 5,
            BinaryOp::Pow => 6,
        }
    }

    /// Whether the operator groups right-to-left (only `^`).
    pub fn is_right_associative(self) -> bool {
        self == BinaryOp::Pow
    }
}

/// How series of the two sides are paired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cardinality {
    /// Plain vector matching.
    #[default]
    OneToOne,
    /// `group_left`.
    ManyToOne,
    /// `group_right`.
    OneToMany,
    /// Set operators.
    ManyToMany,
}

/// Vector matching of a binary operation between two instant vectors.
///
/// Equality treats NaN fill values as equal.
#[derive(Debug, Clone, Default)]
pub struct VectorMatching {
    /// The pairing.
    pub card: Cardinality,
    /// `true` for `on(...)`, `false` for `ignoring(...)` or no clause.
    pub on: bool,
    /// The labels of `on` / `ignoring`.
    pub labels: Vec<String>,
    /// The extra labels of `group_left(...)` / `group_right(...)`.
    pub include: Vec<String>,
    /// Experimental `fill_left(v)`: value used when the left side has no match.
    pub fill_left: Option<f64>,
    /// Experimental `fill_right(v)`: value used when the right side has no match.
    pub fill_right: Option<f64>,
}

impl PartialEq for VectorMatching {
    fn eq(&self, o: &Self) -> bool {
        let same = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(x), Some(y)) => x == y || (x.is_nan() && y.is_nan()),
            (x, y) => x.is_none() && y.is_none(),
        };
        self.card == o.card
            && self.on == o.on
            && self.labels == o.labels
            && self.include == o.include
            && same(self.fill_left, o.fill_left)
            && same(self.fill_right, o.fill_right)
    }
}

/// `lhs op rhs`.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryExpr {
    /// The operator.
    pub op: BinaryOp,
    /// Left operand.
    pub lhs: Box<Expr>,
    /// Right operand.
    pub rhs: Box<Expr>,
    /// The `bool` modifier of comparisons.
    pub return_bool: bool,
    /// Present exactly when both operands are instant vectors.
    pub matching: Option<VectorMatching>,
    /// Position.
    pub span: Span,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-`
    Neg,
    /// `+` (identity)
    Pos,
}

/// `-expr` / `+expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnaryExpr {
    /// The operator.
    pub op: UnaryOp,
    /// The operand (scalar or instant vector).
    pub expr: Box<Expr>,
    /// Position.
    pub span: Span,
}

/// `(expr)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParenExpr {
    /// The inner expression.
    pub expr: Box<Expr>,
    /// Position.
    pub span: Span,
}
