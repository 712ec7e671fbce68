//! The single PromQL function table: names, signatures and whether a function is experimental.
//!
//! The engine attaches implementations by matching on [`FunctionId`]; the parser only needs the
//! signature. Argument-count rules follow Prometheus: with `variadic == 0` exactly
//! `arg_types.len()` arguments; otherwise at least `arg_types.len() - 1`, and at most
//! `arg_types.len() - 1 + variadic` when `variadic > 0` (unbounded when `-1`). Arguments past the
//! end of `arg_types` take the type of the last entry.

use super::ast::ValueType;

macro_rules! functions {
    ($($id:ident $name:literal [$($arg:ident),*] $variadic:literal $ret:ident $exp:literal;)*) => {
        /// Identifies a PromQL function; the engine dispatches on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum FunctionId {
            $(
                #[doc = concat!("`", $name, "()`")]
                $id,
            )*
        }

        /// Every function PromQL knows, sorted by name.
        pub static FUNCTIONS: &[Function] = &[
            $(Function {
                id: FunctionId::$id,
                name: $name,
                arg_types: &[$(ValueType::$arg),*],
                variadic: $variadic,
                return_type: ValueType::$ret,
                experimental: $exp,
            },)*
        ];
    };
}

functions! {
    Abs "abs" [Vector] 0 Vector false;
    Absent "absent" [Vector] 0 Vector false;
    AbsentOverTime "absent_over_time" [Matrix] 0 Vector false;
    Acos "acos" [Vector] 0 Vector false;
    Acosh "acosh" [Vector] 0 Vector false;
    Asin "asin" [Vector] 0 Vector false;
    Asinh "asinh" [Vector] 0 Vector false;
    Atan "atan" [Vector] 0 Vector false;
    Atanh "atanh" [Vector] 0 Vector false;
    AvgOverTime "avg_over_time" [Matrix] 0 Vector false;
    Ceil "ceil" [Vector] 0 Vector false;
    Changes "changes" [Matrix] 0 Vector false;
    Clamp "clamp" [Vector, Scalar, Scalar] 0 Vector false;
    ClampMax "clamp_max" [Vector, Scalar] 0 Vector false;
    ClampMin "clamp_min" [Vector, Scalar] 0 Vector false;
    Cos "cos" [Vector] 0 Vector false;
    Cosh "cosh" [Vector] 0 Vector false;
    CountOverTime "count_over_time" [Matrix] 0 Vector false;
    DayOfMonth "day_of_month" [Vector] 1 Vector false;
    DayOfWeek "day_of_week" [Vector] 1 Vector false;
    DayOfYear "day_of_year" [Vector] 1 Vector false;
    DaysInMonth "days_in_month" [Vector] 1 Vector false;
    Deg "deg" [Vector] 0 Vector false;
    Delta "delta" [Matrix] 0 Vector false;
    Deriv "deriv" [Matrix] 0 Vector false;
    DoubleExponentialSmoothing "double_exponential_smoothing" [Matrix, Scalar, Scalar] 0 Vector true;
    End "end" [] 0 Scalar true;
    Exp "exp" [Vector] 0 Vector false;
    FirstOverTime "first_over_time" [Matrix] 0 Vector true;
    Floor "floor" [Vector] 0 Vector false;
    HistogramAvg "histogram_avg" [Vector] 0 Vector false;
    HistogramCount "histogram_count" [Vector] 0 Vector false;
    HistogramFraction "histogram_fraction" [Scalar, Scalar, Vector] 0 Vector false;
    HistogramQuantile "histogram_quantile" [Scalar, Vector] 0 Vector false;
    HistogramQuantiles "histogram_quantiles" [Vector, String, Scalar, Scalar] -1 Vector true;
    HistogramStddev "histogram_stddev" [Vector] 0 Vector false;
    HistogramStdvar "histogram_stdvar" [Vector] 0 Vector false;
    HistogramSum "histogram_sum" [Vector] 0 Vector false;
    Hour "hour" [Vector] 1 Vector false;
    Idelta "idelta" [Matrix] 0 Vector false;
    Increase "increase" [Matrix] 0 Vector false;
    Info "info" [Vector, Vector] 1 Vector true;
    Irate "irate" [Matrix] 0 Vector false;
    LabelJoin "label_join" [Vector, String, String, String] -1 Vector false;
    LabelReplace "label_replace" [Vector, String, String, String, String] 0 Vector false;
    LastOverTime "last_over_time" [Matrix] 0 Vector false;
    Ln "ln" [Vector] 0 Vector false;
    Log10 "log10" [Vector] 0 Vector false;
    Log2 "log2" [Vector] 0 Vector false;
    MadOverTime "mad_over_time" [Matrix] 0 Vector true;
    MaxOf "max_of" [Scalar, Scalar] 0 Scalar true;
    MaxOverTime "max_over_time" [Matrix] 0 Vector false;
    MinOf "min_of" [Scalar, Scalar] 0 Scalar true;
    MinOverTime "min_over_time" [Matrix] 0 Vector false;
    Minute "minute" [Vector] 1 Vector false;
    Month "month" [Vector] 1 Vector false;
    Pi "pi" [] 0 Scalar false;
    PredictLinear "predict_linear" [Matrix, Scalar] 0 Vector false;
    PresentOverTime "present_over_time" [Matrix] 0 Vector false;
    QuantileOverTime "quantile_over_time" [Scalar, Matrix] 0 Vector false;
    Rad "rad" [Vector] 0 Vector false;
    Range "range" [] 0 Scalar true;
    Rate "rate" [Matrix] 0 Vector false;
    Resets "resets" [Matrix] 0 Vector false;
    Round "round" [Vector, Scalar] 1 Vector false;
    Scalar "scalar" [Vector] 0 Scalar false;
    Sgn "sgn" [Vector] 0 Vector false;
    Sin "sin" [Vector] 0 Vector false;
    Sinh "sinh" [Vector] 0 Vector false;
    Sort "sort" [Vector] 0 Vector false;
    SortByLabel "sort_by_label" [Vector, String] -1 Vector true;
    SortByLabelDesc "sort_by_label_desc" [Vector, String] -1 Vector true;
    SortDesc "sort_desc" [Vector] 0 Vector false;
    Sqrt "sqrt" [Vector] 0 Vector false;
    Start "start" [] 0 Scalar true;
    StartTimestamp "start_timestamp" [Vector] 0 Vector true;
    StddevOverTime "stddev_over_time" [Matrix] 0 Vector false;
    StdvarOverTime "stdvar_over_time" [Matrix] 0 Vector false;
    Step "step" [] 0 Scalar true;
    SumOverTime "sum_over_time" [Matrix] 0 Vector false;
    Tan "tan" [Vector] 0 Vector false;
    Tanh "tanh" [Vector] 0 Vector false;
    Time "time" [] 0 Scalar false;
    Timestamp "timestamp" [Vector] 0 Vector false;
    TsOfFirstOverTime "ts_of_first_over_time" [Matrix] 0 Vector true;
    TsOfLastOverTime "ts_of_last_over_time" [Matrix] 0 Vector true;
    TsOfMaxOverTime "ts_of_max_over_time" [Matrix] 0 Vector true;
    TsOfMinOverTime "ts_of_min_over_time" [Matrix] 0 Vector true;
    Vector "vector" [Scalar] 0 Vector false;
    Year "year" [Vector] 1 Vector false;
}

/// A function signature from [`FUNCTIONS`].
#[derive(Debug, PartialEq, Eq)]
pub struct Function {
    /// The identifier the engine dispatches on.
    pub id: FunctionId,
    /// The name as written in PromQL.
    pub name: &'static str,
    /// Argument types; see the module docs for how `variadic` extends them.
    pub arg_types: &'static [ValueType],
    /// `0`: fixed arity; `n > 0`: up to `n` optional trailing arguments; `-1`: unbounded.
    pub variadic: i8,
    /// The type of the call's result.
    pub return_type: ValueType,
    /// Whether the function needs [`crate::ParserOptions::experimental_functions`].
    pub experimental: bool,
}

impl Function {
    /// The minimum number of arguments.
    pub fn min_args(&self) -> usize {
        if self.variadic == 0 {
            self.arg_types.len()
        } else {
            self.arg_types.len().saturating_sub(1)
        }
    }

    /// The maximum number of arguments, or `None` when unbounded.
    pub fn max_args(&self) -> Option<usize> {
        match self.variadic {
            0 => Some(self.arg_types.len()),
            v if v > 0 => Some(self.min_args() + v as usize),
            _ => None,
        }
    }

    /// The expected type of argument `i` (0-based), or `None` past the maximum.
    pub fn arg_type(&self, i: usize) -> Option<ValueType> {
        if self.max_args().is_some_and(|m| i >= m) {
            return None;
        }
        self.arg_types.get(i).or(self.arg_types.last()).copied()
    }
}

/// Looks up a function by its exact (case-sensitive) name.
pub fn function_by_name(name: &str) -> Option<&'static Function> {
    FUNCTIONS
        .binary_search_by(|f| f.name.cmp(name))
        .ok()
        .and_then(|i| FUNCTIONS.get(i))
}

/// Looks up the signature for an id.
pub fn function(id: FunctionId) -> &'static Function {
    // The table is generated from the same list as the enum, in the same order.
    &FUNCTIONS[id as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_indexed_by_id() {
        assert!(FUNCTIONS.windows(2).all(|w| w[0].name < w[1].name));
        for (i, f) in FUNCTIONS.iter().enumerate() {
            assert_eq!(f.id as usize, i);
            assert_eq!(function_by_name(f.name).map(|g| g.id), Some(f.id));
            assert_eq!(function(f.id).name, f.name);
        }
        assert!(function_by_name("nope").is_none());
    }

    #[test]
    fn arity() {
        let round = function(FunctionId::Round);
        assert_eq!((round.min_args(), round.max_args()), (1, Some(2)));
        let join = function(FunctionId::LabelJoin);
        assert_eq!((join.min_args(), join.max_args()), (3, None));
        assert_eq!(join.arg_type(7), Some(ValueType::String));
        assert_eq!(function(FunctionId::Time).max_args(), Some(0));
    }
}
