//! Multi-line formatting like Prometheus's `Pretty` (used by `/api/v1/format_query`):
//! anything that fits in 100 characters stays on one line; longer aggregations, calls,
//! parentheses and binary expressions are split, children indented by two spaces.

use super::ast::*;
use super::literals::format_float;
use super::printer::label_list_string;

const MAX_LINE: usize = 100;
const INDENT: &str = "  ";

/// Formats an expression across lines the way Prometheus's `Pretty(0)` does.
pub fn prettify(expr: &Expr) -> String {
    let mut out = String::new();
    pretty(expr, 0, &mut out);
    out
}

fn indent(level: usize, out: &mut String) {
    for _ in 0..level {
        out.push_str(INDENT);
    }
}

fn pretty(e: &Expr, level: usize, out: &mut String) {
    let short = e.to_string();
    if short.len() <= MAX_LINE {
        indent(level, out);
        out.push_str(&short);
        return;
    }
    match e {
        Expr::Aggregate(a) => {
            indent(level, out);
            out.push_str(a.op.as_str());
            match &a.grouping {
                Grouping::By(l) if l.is_empty() => {}
                Grouping::By(l) => out.push_str(&format!(" by {} ", label_list_string(l))),
                Grouping::Without(l) => {
                    out.push_str(&format!(" without {} ", label_list_string(l)))
                }
            }
            out.push_str("(\n");
            if let Some(p) = &a.param {
                pretty(p, level + 1, out);
                out.push_str(",\n");
            }
            pretty(&a.expr, level + 1, out);
            out.push('\n');
            indent(level, out);
            out.push(')');
        }
        Expr::Call(c) => {
            indent(level, out);
            out.push_str(c.func.name);
            out.push_str("(\n");
            for (i, a) in c.args.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                pretty(a, level + 1, out);
            }
            out.push('\n');
            indent(level, out);
            out.push(')');
        }
        Expr::Paren(p) => {
            indent(level, out);
            out.push_str("(\n");
            pretty(&p.expr, level + 1, out);
            out.push('\n');
            indent(level, out);
            out.push(')');
        }
        Expr::Binary(b) => {
            match &*b.lhs {
                // As in the one-line form: `+Inf ^ x` would read back as `+(Inf ^ x)`.
                Expr::Number(n) if b.op == BinaryOp::Pow && n.value == f64::INFINITY => {
                    indent(level + 1, out);
                    out.push_str("Inf");
                }
                lhs => pretty(lhs, level + 1, out),
            }
            out.push('\n');
            indent(level, out);
            out.push_str(b.op.as_str());
            if b.return_bool {
                out.push_str(" bool");
            }
            out.push_str(&matching_suffix(b));
            out.push('\n');
            pretty(&b.rhs, level + 1, out);
        }
        Expr::Unary(u) => {
            indent(level, out);
            out.push_str(if u.op == UnaryOp::Neg { "-" } else { "+" });
            let mut child = String::new();
            pretty(&u.expr, level, &mut child);
            out.push_str(child.trim_start());
        }
        Expr::Subquery(s) => {
            pretty(&s.expr, level, out);
            // The suffix is everything the one-line form prints after the inner expression.
            let inner = s.expr.to_string();
            out.push_str(short.get(inner.len()..).unwrap_or(""));
        }
        _ => {
            indent(level, out);
            out.push_str(&short);
        }
    }
}

/// ` on (a) group_left (b) fill(0)` as the one-line printer writes it.
fn matching_suffix(b: &BinaryExpr) -> String {
    let Some(m) = &b.matching else {
        return String::new();
    };
    let mut s = String::new();
    let grouped = matches!(m.card, Cardinality::ManyToOne | Cardinality::OneToMany);
    if m.on || !m.labels.is_empty() || grouped {
        s.push_str(if m.on { " on" } else { " ignoring" });
        s.push(' ');
        s.push_str(&label_list_string(&m.labels));
    }
    if grouped {
        s.push_str(if m.card == Cardinality::ManyToOne {
            " group_left"
        } else {
            " group_right"
        });
        s.push(' ');
        s.push_str(&label_list_string(&m.include));
    }
    match (m.fill_left, m.fill_right) {
        (Some(l), Some(r)) if l == r || (l.is_nan() && r.is_nan()) => {
            s.push_str(&format!(" fill({})", format_float(l)))
        }
        (l, r) => {
            if let Some(l) = l {
                s.push_str(&format!(" fill_left({})", format_float(l)));
            }
            if let Some(r) = r {
                s.push_str(&format!(" fill_right({})", format_float(r)));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    #[test]
    fn short_stays_on_one_line() {
        let e = parse("sum by (job) (rate(x[5m]))").unwrap();
        assert_eq!(prettify(&e), "sum by (job) (rate(x[5m]))");
    }

    #[test]
    fn long_expressions_split_like_prometheus() {
        let q = "sum by (job) (rate(http_requests_total{job=\"api-server\",handler=\"/api/v1/query\"}[5m])) / on (job) group_left () sum by (job) (rate(http_requests_total[5m]))";
        let e = parse(q).unwrap();
        let want = concat!(
            "  sum by (job) (rate(http_requests_total{job=\"api-server\",handler=\"/api/v1/query\"}[5m]))\n",
            "/ on (job) group_left ()\n",
            "  sum by (job) (rate(http_requests_total[5m]))",
        );
        assert_eq!(prettify(&e), want);

        let q = format!(
            "topk(5, sum without (instance) (rate({}{{job=\"x\"}}[5m])))",
            "m".repeat(95)
        );
        let e = parse(&q).unwrap();
        let want = format!(
            "topk(\n  5,\n  sum without (instance) (\n    rate(\n      {}{{job=\"x\"}}[5m]\n    )\n  )\n)",
            "m".repeat(95)
        );
        assert_eq!(prettify(&e), want);
        // Pretty output is still PromQL and means the same thing.
        assert_eq!(parse(&prettify(&e)).unwrap(), e);
    }
}
