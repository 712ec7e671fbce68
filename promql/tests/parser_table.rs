//! Table tests in the style of Prometheus's `parse_test.go`: input → tree (as an S-expression
//! or canonical print) and input → error.

use kagari_promql::{
    parse, parse_with_options, AggregateOp, AtModifier, BinaryOp, Cardinality, DurationContext,
    DurationExpr, Expr, FunctionId, Grouping, ParserOptions, RangeExtension, UnaryOp, ValueType,
};

fn all() -> ParserOptions {
    ParserOptions::all()
}

/// Fully parenthesised structure, to pin precedence and associativity.
fn sexpr(e: &Expr) -> String {
    match e {
        Expr::Number(n) => kagari_promql::format_query(&Expr::Number(*n)),
        Expr::String(s) => format!("{:?}", s.value),
        Expr::VectorSelector(_) | Expr::MatrixSelector(_) => e.to_string(),
        Expr::Subquery(s) => format!("(subquery {})", sexpr(&s.expr)),
        Expr::Call(c) => {
            let args: Vec<String> = c.args.iter().map(sexpr).collect();
            format!("({} {})", c.func.name, args.join(" "))
        }
        Expr::Aggregate(a) => {
            let p = a
                .param
                .as_ref()
                .map(|p| format!("{} ", sexpr(p)))
                .unwrap_or_default();
            format!("({} {p}{})", a.op.as_str(), sexpr(&a.expr))
        }
        Expr::Binary(b) => format!("({} {} {})", b.op.as_str(), sexpr(&b.lhs), sexpr(&b.rhs)),
        Expr::Unary(u) => format!(
            "({} {})",
            if u.op == UnaryOp::Neg { "neg" } else { "pos" },
            sexpr(&u.expr)
        ),
        Expr::Paren(p) => format!("[{}]", sexpr(&p.expr)),
    }
}

fn check_tree(input: &str, want: &str) {
    let e = parse_with_options(input, &all()).unwrap_or_else(|e| panic!("{input}: {e}"));
    assert_eq!(sexpr(&e), want, "input: {input}");
}

fn check_print(input: &str, want: &str) {
    let e = parse_with_options(input, &all()).unwrap_or_else(|e| panic!("{input}: {e}"));
    assert_eq!(e.to_string(), want, "input: {input}");
    let again = parse_with_options(want, &all()).unwrap();
    assert_eq!(again, e, "reparse of {want}");
}

fn check_err(input: &str, want: &str) {
    match parse_with_options(input, &all()) {
        Ok(e) => panic!("{input}: parsed as {e}, wanted error containing {want:?}"),
        Err(e) => assert!(
            e.to_string().contains(want),
            "{input}: got {e:?}, wanted {want:?}"
        ),
    }
}

#[test]
fn precedence_and_associativity() {
    for (input, want) in [
        ("1 + 2 * 3", "(+ 1 (* 2 3))"),
        ("1 * 2 + 3", "(+ (* 1 2) 3)"),
        ("1 - 2 - 3", "(- (- 1 2) 3)"),
        ("2 ^ 3 ^ 2", "(^ 2 (^ 3 2))"),
        ("-1 ^ 2", "(neg (^ 1 2))"),
        ("-1", "-1"),
        ("- - 1", "1"),
        ("-a * b", "(* (neg a) b)"),
        ("-a ^ b", "(neg (^ a b))"),
        ("-a + b", "(+ (neg a) b)"),
        ("+a", "(pos a)"),
        ("a or b and c", "(or a (and b c))"),
        ("a and b or c", "(or (and a b) c)"),
        ("a unless b and c", "(and (unless a b) c)"),
        ("a > b + c", "(> a (+ b c))"),
        ("a == bool b or c", "(or (== a b) c)"),
        ("a atan2 b * c", "(* (atan2 a b) c)"),
        ("a + b atan2 c", "(+ a (atan2 b c))"),
        ("a % b / c", "(/ (% a b) c)"),
        ("a ^ b * c", "(* (^ a b) c)"),
        ("(1 + 2) * 3", "(* [(+ 1 2)] 3)"),
        ("a AND b", "(and a b)"),
        ("a OR ON(x) b", "(or a b)"),
        ("h </ 2 * 3", "(* (</ h 2) 3)"),
        ("h >/ 2", "(>/ h 2)"),
        ("sum(a) + avg(b)", "(+ (sum a) (avg b))"),
        ("a offset 100 + 2", "(+ a offset 100 2)"),
        ("a offset -2 * 2", "(* a offset -2 2)"),
        ("-a offset 5m", "(neg a offset 5m)"),
        ("1 + rate(a[5m:])", "(+ 1 (rate (subquery a)))"),
        ("topk(3, a) by (x)", "(topk 3 a)"),
        ("rate(a[5m])", "(rate a[5m])"),
        (
            "0x1F + 1e3 + .5 + 5. + Inf + -nan",
            "(+ (+ (+ (+ (+ 31 1000) 0.5) 5) +Inf) NaN)",
        ),
        ("1 + 2 # comment", "(+ 1 2)"),
        ("5m", "5m"),
    ] {
        check_tree(input, want);
    }
}

#[test]
fn canonical_printing() {
    for (input, want) in [
        ("sum by(job)(rate(x[5m]))", "sum by (job) (rate(x[5m]))"),
        (
            "sum(rate(x[5m])) by (job, le)",
            "sum by (job, le) (rate(x[5m]))",
        ),
        ("sum without() (x)", "sum without () (x)"),
        ("sum by() (x)", "sum(x)"),
        ("topk by (a) (5, x)", "topk by (a) (5, x)"),
        ("count_values('v', x)", r#"count_values("v", x)"#),
        ("quantile(0.9, x)", "quantile(0.9, x)"),
        (
            "x{a='b', c=~\"d.*\", e!=`f`, g!~\"h\"}",
            r#"x{a="b",c=~"d.*",e!="f",g!~"h"}"#,
        ),
        ("{__name__=\"x\"}", r#"{__name__="x"}"#),
        (
            "{\"my.metric\", \"a.b\"=\"c\"}",
            r#"{"my.metric","a.b"="c"}"#,
        ),
        ("{\"ok_name\"}", "ok_name"),
        ("x[1h30m]", "x[1h30m]"),
        ("x[90m]", "x[1h30m]"),
        ("x[5]", "x[5]"),
        ("x offset 5m", "x offset 5m"),
        ("x offset -1h", "x offset -1h"),
        ("x[5m] offset 1w @ 100", "x[5m] @ 100.000 offset 1w"),
        ("x @ start()", "x @ start()"),
        ("x @ END()", "x @ end()"),
        ("x @ 1.234", "x @ 1.234"),
        ("x @ 1m40s", "x @ 100.000"),
        ("x @ -5", "x @ -5.000"),
        ("rate(x[5m])[30m:1m]", "rate(x[5m])[30m:1m]"),
        ("x[30m:]", "x[30m:]"),
        (
            "(a + b)[5m:] offset 1m @ 10",
            "(a + b)[5m:] @ 10.000 offset 1m",
        ),
        ("a + on(b) group_left(c) d", "a + on (b) group_left (c) d"),
        (
            "a + ignoring(b) group_right d",
            "a + ignoring (b) group_right () d",
        ),
        ("a + on() b", "a + on () b"),
        ("a + ignoring() b", "a + b"),
        ("a > bool 1", "a > bool 1"),
        ("1 == bool 2", "1 == bool 2"),
        ("a and on(x) b", "a and on (x) b"),
        ("a + fill(0) b", "a + fill(0) b"),
        (
            "a + fill_left(1) fill_right(-2) b",
            "a + fill_left(1) fill_right(-2) b",
        ),
        (
            "a + on(x) group_left fill(NaN) b",
            "a + on (x) group_left () fill(NaN) b",
        ),
        ("x[5m] anchored", "x[5m] anchored"),
        ("x offset 1m smoothed", "x offset 1m smoothed"),
        ("x[26m+4m]", "x[26m + 4m]"),
        ("x[step()+1ms:2*(1s)]", "x[step() + 1ms:2 * (1s)]"),
        ("x offset -(2*3s)", "x offset -(2 * 3s)"),
        ("x offset min_of(step(), 1s)", "x offset min_of(step(), 1s)"),
        ("1e6", "1e+06"),
        ("1e-7", "1e-07"),
        ("\"a\\nb\"", r#""a\nb""#),
        ("`raw\\n`", r#""raw\\n""#),
        (
            "label_replace(x, \"a\", \"$1\", \"b\", \"(.*)\")",
            r#"label_replace(x, "a", "$1", "b", "(.*)")"#,
        ),
        ("time()", "time()"),
        ("-x", "-x"),
        ("sum(x)by(\"a.b\")", r#"sum by ("a.b") (x)"#),
        ("offset", "offset"),
        ("fill + fill(0) other", "fill + fill(0) other"),
        ("sum", "sum"),
        ("sum{a=\"b\"}", r#"sum{a="b"}"#),
        ("x{a=\"b\",}", r#"x{a="b"}"#),
        ("foo:bar:baz", "foo:bar:baz"),
        ("start() + range()", "start() + range()"),
        // Found by fuzzing: the relaxed label selector of info() may be empty.
        ("info(build_info, {})", "info(build_info, {})"),
        ("info(x, {a=\"\"})", r#"info(x, {a=""})"#),
    ] {
        check_print(input, want);
    }
}

#[test]
fn tree_details() {
    let e = parse("sum without (a) (x)").unwrap();
    let Expr::Aggregate(a) = e else {
        panic!("{e:?}")
    };
    assert_eq!(a.op, AggregateOp::Sum);
    assert_eq!(a.grouping, Grouping::Without(vec!["a".into()]));

    let e = parse("a * on(x) group_left(y) b").unwrap();
    let Expr::Binary(b) = e else { panic!() };
    let m = b.matching.unwrap();
    assert_eq!(
        (m.card, m.on, m.labels, m.include),
        (
            Cardinality::ManyToOne,
            true,
            vec!["x".into()],
            vec!["y".into()]
        )
    );

    let e = parse("a and b").unwrap();
    let Expr::Binary(b) = e else { panic!() };
    assert_eq!(b.matching.unwrap().card, Cardinality::ManyToMany);

    let e = parse("a + 1").unwrap();
    let Expr::Binary(b) = e else { panic!() };
    assert!(b.matching.is_none());
    assert_eq!(b.op, BinaryOp::Add);

    let e = parse("foo{a=\"b\"} offset -5m @ 10.5").unwrap();
    let Expr::VectorSelector(v) = &e else {
        panic!()
    };
    assert_eq!(v.name.as_deref(), Some("foo"));
    assert_eq!(v.matchers.len(), 2);
    assert_eq!(v.matchers[0].name(), "__name__");
    assert_eq!(v.at, Some(AtModifier::Timestamp(10_500)));
    assert_eq!(
        v.offset.as_ref().and_then(DurationExpr::constant_millis),
        Some(-300_000)
    );
    assert_eq!(e.value_type(), ValueType::Vector);
    assert_eq!((e.span().start, e.span().end), (0, 28));

    let e = parse_with_options("rate(x[step()*2] anchored)", &all()).unwrap();
    let Expr::Call(c) = e else { panic!() };
    assert_eq!(c.func.id, FunctionId::Rate);
    let Expr::MatrixSelector(m) = &c.args[0] else {
        panic!()
    };
    assert_eq!(m.vector.extension, Some(RangeExtension::Anchored));
    assert_eq!(m.range.constant_millis(), None);
    assert_eq!(
        m.range.eval_millis(&DurationContext {
            step_ms: 15_000,
            range_ms: 0
        }),
        Some(30_000)
    );

    let e = parse("x[1h:]").unwrap();
    let Expr::Subquery(s) = e else { panic!() };
    assert!(s.step.is_none());
    assert_eq!(s.range.constant_millis(), Some(3_600_000));

    let e = parse("day_of_month()").unwrap();
    assert_eq!(e.value_type(), ValueType::Vector);
    assert_eq!(parse("scalar(x)").unwrap().value_type(), ValueType::Scalar);
    assert_eq!(parse("x[5m]").unwrap().value_type(), ValueType::Matrix);
    assert_eq!(parse("'s'").unwrap().value_type(), ValueType::String);
}

#[test]
fn errors() {
    for (input, want) in [
        ("", "no expression found in input"),
        ("   # just a comment", "no expression found in input"),
        ("(1 + 2", "unclosed left parenthesis"),
        ("1 + 2)", "unexpected right parenthesis ')'"),
        ("foo{a=\"b\"", "unexpected end of input inside braces"),
        ("foo[5m", "unclosed left bracket"),
        ("\"abc", "unterminated quoted string"),
        ("foo{a=\"b\n\"}", "unterminated quoted string"),
        ("1 +", "unexpected end of input"),
        ("*1", "unexpected <op:*>"),
        ("1.5m", "not a valid duration string"),
        ("1.5x", "bad number or duration syntax"),
        ("x[1m1h]", "not a valid duration string"),
        ("foo ! bar", "unexpected character after '!': ' '"),
        ("{}", "vector selector must contain at least one non-empty matcher"),
        ("{a=\"\"}", "vector selector must contain at least one non-empty matcher"),
        ("{a=~\".*\"}", "vector selector must contain at least one non-empty matcher"),
        ("foo{__name__=\"bar\"}", "metric name must not be set twice: \"foo\" or \"bar\""),
        ("{\"a\", \"b\"}", "metric name must not be set twice"),
        ("foo{a=~\"(\"}", "error parsing regexp: missing closing ): `^(?s:()$`"),
        ("foo{a=1}", "unexpected character inside braces: '1'"),
        ("foo{a}", "unexpected \"}\""),
        ("rate(x)", "expected type range vector in call to function \"rate\", got instant vector"),
        ("abs(x[5m])", "expected type instant vector in call to function \"abs\", got range vector"),
        ("rate()", "expected 1 argument(s) in call to \"rate\", got 0"),
        ("round()", "expected at least 1 argument(s) in call to \"round\", got 0"),
        ("round(x, 1, 2)", "expected at most 2 argument(s) in call to \"round\", got 3"),
        ("label_join(x, \"a\")", "expected at least 3 argument(s) in call to \"label_join\", got 2"),
        ("label_join(x, \"a\", \"b\", 1)", "expected type string in call to function \"label_join\", got scalar"),
        ("nosuchfunc(x)", "unknown function with name \"nosuchfunc\""),
        ("sum(x[5m])", "expected type instant vector in aggregation expression, got range vector"),
        ("topk(x, y)", "expected type scalar in aggregation parameter, got instant vector"),
        ("count_values(1, y)", "expected type string in aggregation parameter, got scalar"),
        ("topk(y)", "wrong number of arguments for aggregate expression provided, expected 2, got 1"),
        ("sum(1, y)", "wrong number of arguments for aggregate expression provided, expected 1, got 2"),
        ("sum()", "no arguments for aggregate expression provided"),
        ("x[5m] + 1", "binary expression must contain only scalar and instant vector types"),
        ("\"a\" + 1", "binary expression must contain only scalar and instant vector types"),
        ("1 > 2", "comparisons between scalars must use BOOL modifier"),
        ("a + bool b", "bool modifier can only be used on comparison operators"),
        ("1 and x", "set operator \"and\" not allowed in binary scalar expression"),
        ("1 + on(a) x", "vector matching only allowed between instant vectors"),
        ("a and on(x) group_left b", "no grouping allowed for \"and\" operation"),
        ("a + on(x) group_left(x) b", "label \"x\" must not occur in ON and GROUP clause at once"),
        ("-x[5m]", "unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\""),
        ("(a + b)[5m]", "ranges only allowed for vector selectors"),
        ("x[5m][5m:]", "subquery is only allowed on instant vector, got matrix instead"),
        ("x offset 1m[5m]", "no offset modifiers allowed before range"),
        ("x @ 1[5m]", "no @ modifiers allowed before range"),
        ("x offset 1m offset 2m", "offset may not be set multiple times"),
        ("x @ 1 @ 2", "@ <timestamp> may not be set multiple times"),
        ("sum(x) offset 1m", "offset modifier must be preceded by an instant vector selector"),
        ("1 @ 1", "@ modifier must be preceded by an instant vector selector"),
        ("x @ Inf", "timestamp out of bounds for @ modifier: +Inf"),
        ("deriv(x[3m] smoothed)", "smoothed modifier can only be used with: delta, increase, rate - not with deriv"),
        ("max_over_time(x[3m] anchored)", "anchored modifier can only be used with: changes, delta, increase, rate, resets - not with max_over_time"),
        ("sum by (a:b) (x)", "unexpected metric identifier \"a:b\" in grouping opts, expected label"),
        ("'\\q'", "unknown escape sequence U+0071 'q'"),
        ("x{a=\"b\" c=\"d\"}", "expected \",\" or \"}\""),
        ("rate(x[5m], )", "trailing commas not allowed in function call args"),
        ("a +", "unexpected end of input"),
    ] {
        check_err(input, want);
    }
}

#[test]
fn options_gate_experimental_syntax() {
    let stock = ParserOptions::default();
    for (input, want) in [
        (
            "limitk(1, x)",
            "limitk() and limit_ratio() are experimental",
        ),
        (
            "mad_over_time(x[5m])",
            "function \"mad_over_time\" is not enabled",
        ),
        (
            "x[5m] anchored",
            "anchored/smoothed modifier is experimental",
        ),
        ("a + fill(0) b", "fill modifier is experimental"),
    ] {
        let err = parse_with_options(input, &stock).unwrap_err();
        assert!(err.to_string().contains(want), "{input}: {err}");
        assert!(parse_with_options(input, &all()).is_ok(), "{input}");
    }
    let no_dur = ParserOptions {
        duration_expressions: false,
        ..ParserOptions::default()
    };
    assert!(parse_with_options("x[5m+1m]", &no_dur).is_err());
    assert!(parse_with_options("x offset -5m", &no_dur).is_ok());
    assert!(parse_with_options("x[5m]", &no_dur).is_ok());
}

#[test]
fn error_positions() {
    let e = parse("sum(x) +\n  rate(y)").unwrap_err();
    // Type errors point at the offending argument, like Prometheus.
    assert_eq!(e.line_col(), (2, 8));
    assert_eq!(e.span, 16..17);
    assert_eq!(e.query, "sum(x) +\n  rate(y)");
    assert!(e.to_string().starts_with("2:8: parse error: "));
}
