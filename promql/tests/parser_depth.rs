//! Deep syntax trees are refused with an error instead of overflowing the stack later, when the
//! tree is evaluated, printed or dropped.

use kagari_promql::parse;

/// `(((up + up ... ) + up ...) ...)`: `levels` parenthesised chains of `ops` operators, each
/// the left operand of the next.
fn nested_chains(levels: usize, ops: usize) -> String {
    let mut q = "up".to_string();
    for _ in 0..levels {
        q = format!("({q}{})", " + up".repeat(ops));
    }
    q
}

#[test]
fn chains_inside_parentheses_add_up() {
    for (levels, ops) in [(2, 999), (10, 999), (90, 999), (3, 400)] {
        let q = nested_chains(levels, ops);
        let err = parse(&q).expect_err("too deep");
        assert!(
            err.to_string().contains("nested too deeply"),
            "{levels}x{ops}: {err}"
        );
    }
}

#[test]
fn deep_but_bounded_trees_parse_and_print() {
    // A single chain of 1,000 operators, and 2 levels of 500.
    for q in [
        "up".to_string() + &" + up".repeat(1000),
        nested_chains(2, 500),
        nested_chains(50, 10),
    ] {
        let e = parse(&q).unwrap_or_else(|e| panic!("{}…: {e}", &q[..20]));
        // Printing walks the whole tree; it must not overflow and must parse back.
        let printed = e.to_string();
        assert_eq!(parse(&printed).expect("printed query parses"), e);
    }
}
