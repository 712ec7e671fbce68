//! Property: for random well-typed trees, print → parse gives back the same tree, and printing
//! is a fixed point. Also: the parser never panics on arbitrary input.

use kagari_model::{MatchType, Matcher};
use kagari_promql::{
    function_by_name, parse_with_options, AggregateExpr, AggregateOp, AtModifier, BinaryExpr,
    BinaryOp, Call, Cardinality, DurationExpr, DurationFn, Expr, Grouping, MatrixSelector,
    NumberLiteral, ParenExpr, ParserOptions, RangeExtension, Span, StringLiteral, SubqueryExpr,
    UnaryExpr, UnaryOp, VectorMatching, VectorSelector,
};
use proptest::prelude::*;

type S<T> = BoxedStrategy<T>;

fn num(value: f64) -> Expr {
    Expr::Number(NumberLiteral {
        value,
        duration: false,
        span: Span::default(),
    })
}

fn number() -> S<Expr> {
    prop_oneof![
        (0u32..10_000).prop_map(|v| num(f64::from(v))),
        (0u32..10_000).prop_map(|v| num(f64::from(v) / 64.0)),
        prop::sample::select(vec![1e6, 1e-7, 12345678.9, f64::INFINITY, f64::NAN]).prop_map(num),
        (1i64..100_000_000).prop_map(|ms| match DurationExpr::from_millis(ms) {
            DurationExpr::Literal(n) => Expr::Number(n),
            _ => unreachable!(),
        }),
    ]
    .boxed()
}

fn string() -> S<Expr> {
    "[a-z\\\\\"' \n\té€]{0,6}"
        .prop_map(|value| {
            Expr::String(StringLiteral {
                value,
                span: Span::default(),
            })
        })
        .boxed()
}

fn label_name() -> S<String> {
    prop::sample::select(vec!["a", "job", "le", "on", "sum", "a.b", "ünï"])
        .prop_map(String::from)
        .boxed()
}

fn labels() -> S<Vec<String>> {
    prop::collection::vec(label_name(), 0..3).boxed()
}

fn matcher() -> S<Matcher> {
    (
        label_name(),
        prop::sample::select(vec![
            MatchType::Equal,
            MatchType::NotEqual,
            MatchType::Regex,
            MatchType::NotRegex,
        ]),
        prop::sample::select(vec![
            "x",
            "",
            "a.*",
            "foo|bar",
            "with \"quote\"",
            "new\nline",
        ]),
    )
        .prop_map(|(n, t, v)| Matcher::new(t, &n, v).unwrap())
        .boxed()
}

fn duration_literal() -> S<DurationExpr> {
    prop_oneof![
        (1i64..1_000_000_000).prop_map(DurationExpr::from_millis),
        (1u32..1000).prop_map(|s| DurationExpr::Literal(NumberLiteral {
            value: f64::from(s),
            duration: false,
            span: Span::default()
        })),
    ]
    .boxed()
}

/// A range or step: a literal or a small duration expression.
fn range_duration() -> S<DurationExpr> {
    let lit = duration_literal();
    prop_oneof![
        3 => lit.clone(),
        1 => (lit.clone(), lit.clone(), prop::sample::select(vec![BinaryOp::Add, BinaryOp::Mul, BinaryOp::Sub]))
            .prop_map(|(l, r, op)| DurationExpr::Binary { op, lhs: Box::new(l), rhs: Box::new(r), span: Span::default() }),
        1 => Just(DurationExpr::Call { func: DurationFn::Step, args: vec![], span: Span::default() }),
        1 => (lit.clone(), lit).prop_map(|(a, b)| DurationExpr::Call {
            func: DurationFn::MaxOf,
            args: vec![a, b],
            span: Span::default()
        }),
    ]
    .boxed()
}

/// An offset: a (possibly negative) literal, or a parenthesised expression.
fn offset() -> S<DurationExpr> {
    prop_oneof![
        3 => (duration_literal(), any::<bool>()).prop_map(|(d, neg)| match d {
            DurationExpr::Literal(mut n) if neg => {
                n.value = -n.value;
                DurationExpr::Literal(n)
            }
            d => d,
        }),
        1 => range_duration().prop_map(|d| DurationExpr::Paren { expr: Box::new(d), span: Span::default() }),
        1 => Just(DurationExpr::Call { func: DurationFn::Range, args: vec![], span: Span::default() }),
    ]
    .boxed()
}

fn at() -> S<Option<AtModifier>> {
    prop_oneof![
        3 => Just(None),
        1 => (-1_000_000_000_000i64..1_000_000_000_000).prop_map(|ms| Some(AtModifier::Timestamp(ms))),
        1 => prop::sample::select(vec![AtModifier::Start, AtModifier::End]).prop_map(Some),
    ]
    .boxed()
}

fn selector_base() -> S<VectorSelector> {
    (
        prop::option::of(prop::sample::select(vec![
            "foo",
            "bar:baz",
            "offset",
            "my.metric",
        ])),
        prop::collection::vec(matcher(), 0..3),
    )
        .prop_map(|(name, mut matchers)| {
            if let Some(n) = name {
                matchers.insert(0, Matcher::new(MatchType::Equal, "__name__", n).unwrap());
            } else {
                matchers.push(Matcher::new(MatchType::Equal, "job", "x").unwrap());
            }
            VectorSelector {
                name: name.map(String::from),
                matchers,
                offset: None,
                at: None,
                extension: None,
                span: Span::default(),
            }
        })
        .boxed()
}

fn vector_selector() -> S<Expr> {
    (
        selector_base(),
        prop::option::of(offset()),
        at(),
        prop::option::of(Just(RangeExtension::Smoothed)),
    )
        .prop_map(|(mut v, offset, at, extension)| {
            v.offset = offset;
            v.at = at;
            v.extension = extension;
            Expr::VectorSelector(v)
        })
        .boxed()
}

fn matrix_selector() -> S<Expr> {
    (
        selector_base(),
        range_duration(),
        prop::option::of(offset()),
        at(),
    )
        .prop_map(|(mut v, range, offset, at)| {
            v.offset = offset;
            v.at = at;
            Expr::MatrixSelector(MatrixSelector {
                vector: v,
                range,
                span: Span::default(),
            })
        })
        .boxed()
}

fn paren(e: Expr) -> Expr {
    Expr::Paren(ParenExpr {
        expr: Box::new(e),
        span: Span::default(),
    })
}

/// Wraps operators in parentheses so the printed form parses back to the same tree.
fn operand(e: Expr) -> Expr {
    match e {
        Expr::Binary(_) | Expr::Unary(_) => paren(e),
        e => e,
    }
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Call(Call {
        func: function_by_name(name).unwrap(),
        args,
        span: Span::default(),
    })
}

fn binary(
    op: BinaryOp,
    lhs: Expr,
    rhs: Expr,
    return_bool: bool,
    matching: Option<VectorMatching>,
) -> Expr {
    // Like Prometheus, `+Inf ^ 2` reads back as `+(Inf ^ 2)`: a signed literal on the left
    // needs parentheses to mean what the tree says.
    let lhs = match lhs {
        Expr::Number(n) if n.value.is_sign_negative() || n.value == f64::INFINITY => {
            paren(Expr::Number(n))
        }
        e => operand(e),
    };
    Expr::Binary(BinaryExpr {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(operand(rhs)),
        return_bool,
        matching,
        span: Span::default(),
    })
}

fn arith_op() -> S<BinaryOp> {
    prop::sample::select(vec![
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Mod,
        BinaryOp::Pow,
        BinaryOp::Atan2,
        BinaryOp::Eql,
        BinaryOp::Neq,
        BinaryOp::Gtr,
        BinaryOp::Lss,
        BinaryOp::Gte,
        BinaryOp::Lte,
    ])
    .boxed()
}

fn matching() -> S<VectorMatching> {
    (
        any::<bool>(),
        labels(),
        prop::option::of((any::<bool>(), labels())),
        prop::option::of(prop::sample::select(vec![
            0.0,
            -1.5,
            f64::NAN,
            f64::INFINITY,
        ])),
        prop::option::of(prop::sample::select(vec![0.0, 2.0])),
    )
        .prop_map(|(on, labels, group, fill_left, fill_right)| {
            let (card, include) = match group {
                Some((left, inc)) => (
                    if left {
                        Cardinality::ManyToOne
                    } else {
                        Cardinality::OneToMany
                    },
                    inc,
                ),
                None => (Cardinality::OneToOne, Vec::new()),
            };
            // `on(x) group_left(x)` is rejected; keep the lists disjoint.
            let include = include
                .into_iter()
                .filter(|l| !(on && labels.contains(l)))
                .collect();
            VectorMatching {
                card,
                on,
                labels,
                include,
                fill_left,
                fill_right,
            }
        })
        .boxed()
}

fn exprs(depth: u32) -> (S<Expr>, S<Expr>) {
    let mut v = prop_oneof![4 => vector_selector(), 1 => matrix_selector().prop_map(|m| call("rate", vec![m]))].boxed();
    let mut s = prop_oneof![4 => number(), 1 => Just(call("time", vec![]))].boxed();
    for _ in 0..depth {
        let (pv, ps) = (v.clone(), s.clone());
        let agg = (
            prop::sample::select(AggregateOp::ALL.to_vec()),
            pv.clone(),
            ps.clone(),
            string(),
            prop::option::of((any::<bool>(), labels())),
        )
            .prop_map(|(op, e, sp, st, g)| {
                let param = match op.param_type() {
                    Some(kagari_promql::ValueType::String) => Some(Box::new(st)),
                    Some(_) => Some(Box::new(sp)),
                    None => None,
                };
                let grouping = match g {
                    Some((true, l)) => Grouping::Without(l),
                    Some((false, l)) => Grouping::By(l),
                    None => Grouping::By(vec![]),
                };
                Expr::Aggregate(AggregateExpr {
                    op,
                    expr: Box::new(e),
                    param,
                    grouping,
                    span: Span::default(),
                })
            });
        let vv = (
            arith_op(),
            pv.clone(),
            pv.clone(),
            any::<bool>(),
            matching(),
        )
            .prop_map(|(op, l, r, b, m)| {
                let card = if op.is_set_operator() {
                    Cardinality::ManyToMany
                } else {
                    m.card
                };
                binary(
                    op,
                    l,
                    r,
                    b && op.is_comparison(),
                    Some(VectorMatching { card, ..m }),
                )
            });
        let set = (
            prop::sample::select(vec![BinaryOp::And, BinaryOp::Or, BinaryOp::Unless]),
            pv.clone(),
            pv.clone(),
            labels(),
        )
            .prop_map(|(op, l, r, labels)| {
                let on = !labels.is_empty();
                let m = VectorMatching {
                    card: Cardinality::ManyToMany,
                    on,
                    labels,
                    ..Default::default()
                };
                binary(op, l, r, false, Some(m))
            });
        let vs = (
            arith_op(),
            pv.clone(),
            ps.clone(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(op, v, s, flip, b)| {
                let rb = b && op.is_comparison();
                if flip {
                    binary(op, s, v, rb, None)
                } else {
                    binary(op, v, s, rb, None)
                }
            });
        let unary = (pv.clone(), any::<bool>()).prop_map(|(e, neg)| {
            Expr::Unary(UnaryExpr {
                op: if neg { UnaryOp::Neg } else { UnaryOp::Pos },
                expr: Box::new(operand(e)),
                span: Span::default(),
            })
        });
        let subquery = (
            pv.clone(),
            range_duration(),
            prop::option::of(range_duration()),
            prop::option::of(offset()),
            at(),
        )
            .prop_map(|(e, range, step, offset, at)| {
                let inner = match e {
                    Expr::VectorSelector(v) if v.extension.is_none() => Expr::VectorSelector(v),
                    Expr::Call(_) | Expr::Aggregate(_) | Expr::Paren(_) => e,
                    e => paren(e),
                };
                let sq = Expr::Subquery(SubqueryExpr {
                    expr: Box::new(inner),
                    range,
                    step,
                    offset,
                    at,
                    span: Span::default(),
                });
                call("sum_over_time", vec![sq])
            });
        let funcs = (pv.clone(), ps.clone()).prop_map(|(v, s)| call("clamp_max", vec![v, s]));
        v = prop_oneof![
            2 => pv.clone(),
            2 => agg,
            2 => vv,
            1 => set,
            2 => vs,
            1 => unary,
            1 => subquery,
            1 => funcs,
            1 => pv.clone().prop_map(paren),
        ]
        .boxed();
        let ss = (arith_op(), ps.clone(), ps.clone())
            .prop_map(|(op, l, r)| binary(op, l, r, op.is_comparison(), None));
        s = prop_oneof![
            2 => ps.clone(),
            2 => ss,
            1 => pv.prop_map(|v| call("scalar", vec![v])),
            1 => ps.prop_map(paren),
        ]
        .boxed();
    }
    (v, s)
}

fn any_expr() -> S<Expr> {
    let (v, s) = exprs(3);
    prop_oneof![4 => v, 1 => s, 1 => string()].boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_round_trips(e in any_expr()) {
        let printed = e.to_string();
        let parsed = parse_with_options(&printed, &ParserOptions::all());
        prop_assert!(parsed.is_ok(), "{printed}: {}", parsed.unwrap_err());
        let parsed = parsed.unwrap();
        prop_assert_eq!(&parsed, &e, "printed: {}", printed);
        prop_assert_eq!(parsed.to_string(), printed);
        // The multi-line form is PromQL too.
        let pretty = kagari_promql::prettify(&e);
        let reparsed = parse_with_options(&pretty, &ParserOptions::all());
        prop_assert!(reparsed.is_ok(), "{pretty}");
        prop_assert_eq!(reparsed.unwrap(), e, "pretty: {}", pretty);
    }

    #[test]
    fn never_panics_on_arbitrary_text(s in "[ -~\n€]{0,60}") {
        let _ = parse_with_options(&s, &ParserOptions::all());
    }

    #[test]
    fn never_panics_on_token_soup(parts in prop::collection::vec(prop::sample::select(vec![
        "sum", "by", "(", ")", "{", "}", "[", "]", ":", ",", "5m", "1", "-", "+", "^", "offset", "@",
        "foo", "=", "=~", "\"x\"", "rate", "bool", "on", "group_left", "and", "start()", "anchored",
        "fill", "step()", "Inf", "</", "'", "#", "0x", "1e", "without", "topk", "count_values",
    ]), 0..25)) {
        let q = parts.join(" ");
        if let Ok(e) = parse_with_options(&q, &ParserOptions::all()) {
            // Whatever parses must print to something that parses to the same tree.
            let printed = e.to_string();
            let again = parse_with_options(&printed, &ParserOptions::all());
            prop_assert!(again.is_ok(), "{q} printed as {printed}");
            prop_assert_eq!(again.unwrap(), e);
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let q = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(parse_with_options(&q, &ParserOptions::all()).is_err());
    let q = vec!["a"; 50_000].join(" + ");
    assert!(parse_with_options(&q, &ParserOptions::all()).is_err());
    let q = vec!["a"; 900].join(" or ");
    assert!(parse_with_options(&q, &ParserOptions::all()).is_ok());
    let q = format!("{}1{}", "(".repeat(90), ")".repeat(90));
    assert!(parse_with_options(&q, &ParserOptions::all()).is_ok());
    let q = format!("{}a", "-".repeat(100_000));
    assert!(parse_with_options(&q, &ParserOptions::all()).is_err());
    let ok = format!("{}1{}", "(".repeat(50), ")".repeat(50));
    assert!(parse_with_options(&ok, &ParserOptions::all()).is_ok());
}
