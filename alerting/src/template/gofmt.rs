//! Go `fmt` compatibility: float formatting (`%v`, `%g`, `%e`, `%f`) and `printf`.

use std::fmt::Write;

use super::value::Value;

/// Decimal digits (no leading/trailing zeros) and decimal point position of `|f|`, like
/// Go's `decimalSlice`. `sig` = number of significant digits, `None` = shortest.
fn digits(f: f64, sig: Option<usize>) -> (Vec<u8>, i32) {
    let a = f.abs();
    if a == 0.0 {
        return (Vec::new(), 0);
    }
    let s = match sig {
        None => format!("{a:e}"),
        Some(n) => format!("{a:.*e}", n.saturating_sub(1)),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while d.last() == Some(&b'0') {
        d.pop();
    }
    (d, exp + 1)
}

fn fmt_e(out: &mut String, d: &[u8], dp: i32, prec: usize, upper: bool) {
    out.push(d.first().map_or('0', |c| *c as char));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(d.get(i).map_or('0', |c| *c as char));
        }
    }
    out.push(if upper { 'E' } else { 'e' });
    let exp = if d.is_empty() { 0 } else { dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let _ = write!(out, "{:02}", exp.abs());
}

fn fmt_f(out: &mut String, d: &[u8], dp: i32, prec: usize) {
    if dp > 0 {
        for i in 0..dp as usize {
            out.push(d.get(i).map_or('0', |c| *c as char));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as i32 {
            let j = dp + i - 1;
            let c = if j < 0 {
                b'0'
            } else {
                d.get(j as usize).copied().unwrap_or(b'0')
            };
            out.push(c as char);
        }
    }
}

/// Formats `f` like Go's `strconv.FormatFloat(f, verb, prec, 64)` with fmt's spelling of
/// infinities (`+Inf`). `verb` is one of `e E f F g G`; `prec` `None` = Go's -1.
pub(super) fn format_float(f: f64, verb: char, prec: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    match verb {
        'e' | 'E' => {
            let p = prec.unwrap_or(6);
            let s = format!("{:.*e}", p, f.abs());
            let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
            let d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
            let exp: i32 = exp.parse().unwrap_or(0);
            fmt_e(&mut out, &d, exp + 1, p, verb == 'E');
        }
        'f' | 'F' => {
            let _ = write!(out, "{:.*}", prec.unwrap_or(6), f.abs());
        }
        _ => {
            let shortest = prec.is_none();
            let sig = prec.map(|p| p.max(1));
            let (d, dp) = digits(f, sig);
            let nd = d.len() as i32;
            let mut p = match sig {
                Some(s) => s as i32,
                None => nd,
            };
            let mut eprec = p;
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            if exp < -4 || exp >= eprec {
                if p > nd {
                    p = nd;
                }
                fmt_e(&mut out, &d, dp, (p - 1).max(0) as usize, verb == 'G');
            } else {
                if p > dp {
                    p = nd;
                }
                fmt_f(&mut out, &d, dp, (p - dp).max(0) as usize);
            }
        }
    }
    out
}

/// Go's fmt rejects widths and precisions above 1e6 (`%!(BADWIDTH)`, `%!(BADPREC)`).
const MAX_WIDTH: usize = 1_000_000;

#[derive(Default, Clone, Copy)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn pad(out: &mut String, s: &str, fl: Flags, numeric: bool) {
    let len = s.chars().count();
    let w = fl.width.unwrap_or(0);
    if len >= w {
        out.push_str(s);
        return;
    }
    let n = w - len;
    if fl.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', n));
    } else if fl.zero && numeric {
        let (sign, rest) = match s.chars().next() {
            Some(c @ ('+' | '-' | ' ')) => (Some(c), s.get(1..).unwrap_or("")),
            _ => (None, s),
        };
        if let Some(c) = sign {
            out.push(c);
        }
        out.extend(std::iter::repeat_n('0', n));
        out.push_str(rest);
    } else {
        out.extend(std::iter::repeat_n(' ', n));
        out.push_str(s);
    }
}

fn bad_verb(out: &mut String, verb: char, v: &Value) {
    match v {
        Value::Nil => {
            let _ = write!(out, "%!{verb}(<nil>)");
        }
        _ => {
            let _ = write!(out, "%!{verb}({}={})", v.type_name(), v.to_go_string());
        }
    }
}

fn sign(s: String, fl: Flags, neg: bool) -> String {
    if neg {
        s
    } else if fl.plus {
        format!("+{s}")
    } else if fl.space {
        format!(" {s}")
    } else {
        s
    }
}

fn int_verb(i: i64, verb: char, fl: Flags) -> Option<String> {
    let neg = i < 0;
    let u = i.unsigned_abs();
    let body = match verb {
        'd' | 'v' => u.to_string(),
        'x' => format!("{}{u:x}", if fl.sharp { "0x" } else { "" }),
        'X' => format!("{}{u:X}", if fl.sharp { "0X" } else { "" }),
        'o' => format!("{}{u:o}", if fl.sharp { "0" } else { "" }),
        'O' => format!("0o{u:o}"),
        'b' => format!("{u:b}"),
        'c' => return Some(char::from_u32(i as u32).unwrap_or('\u{FFFD}').to_string()),
        'q' => {
            let c = char::from_u32(i as u32).unwrap_or('\u{FFFD}');
            return Some(format!("{c:?}"));
        }
        'U' => return Some(format!("U+{u:04X}")),
        _ => return None,
    };
    let body = match fl.prec {
        Some(p) if body.len() < p => format!("{}{body}", "0".repeat(p - body.len())),
        _ => body,
    };
    Some(sign(if neg { format!("-{body}") } else { body }, fl, neg))
}

fn one(out: &mut String, verb: char, fl: Flags, v: &Value) {
    // Go applies the verb to the elements of maps, slices and structs.
    let elem = |out: &mut String, x: &Value| match x {
        Value::Nil => out.push_str("<nil>"),
        x => one(out, verb, Flags::default(), x),
    };
    match (verb, v) {
        (_, Value::Map(m)) if verb != 'T' => {
            out.push_str("map[");
            for (i, (k, x)) in m.entries.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                elem(out, &Value::Str(k.clone()));
                out.push(':');
                elem(out, x);
            }
            out.push(']');
        }
        (_, Value::List(l)) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                elem(out, x);
            }
            out.push(']');
        }
        ('v', Value::Float(f)) => {
            let s = format_float(*f, 'g', fl.prec);
            let neg = s.starts_with('-');
            pad(out, &sign(s, fl, neg), fl, true);
        }
        ('v', _) => {
            let s = v.to_go_string();
            pad(out, &s, fl, false);
        }
        ('s', Value::Str(s) | Value::SafeHtml(s)) => {
            let s = match fl.prec {
                Some(p) => s.chars().take(p).collect(),
                None => s.clone(),
            };
            pad(out, &s, fl, false);
        }
        ('s', Value::Time(_) | Value::Duration(_)) => pad(out, &v.to_go_string(), fl, false),
        ('q', Value::Str(s) | Value::SafeHtml(s)) => {
            let q = if fl.sharp && !s.contains('`') {
                format!("`{s}`")
            } else {
                kagari_model::quote_go(s)
            };
            pad(out, &q, fl, false);
        }
        ('x' | 'X', Value::Str(s) | Value::SafeHtml(s)) => {
            let mut h = String::new();
            for b in s.bytes() {
                if verb == 'x' {
                    let _ = write!(h, "{b:02x}");
                } else {
                    let _ = write!(h, "{b:02X}");
                }
            }
            pad(out, &h, fl, false);
        }
        ('t', Value::Bool(b)) => pad(out, &b.to_string(), fl, false),
        ('e' | 'E' | 'f' | 'F' | 'g' | 'G', Value::Float(f)) => {
            let s = format_float(*f, verb, fl.prec);
            let neg = s.starts_with('-');
            pad(out, &sign(s, fl, neg), fl, f.is_finite());
        }
        (_, Value::Int(i)) => match int_verb(*i, verb, fl) {
            Some(s) => pad(out, &s, fl, !matches!(verb, 'c' | 'q')),
            None => bad_verb(out, verb, v),
        },
        _ => bad_verb(out, verb, v),
    }
}

/// Go's `fmt.Sprintf(format, args...)` over template values.
pub(super) fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut argi = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut fl = Flags::default();
        while let Some(&f) = chars.peek() {
            match f {
                '+' => fl.plus = true,
                '-' => fl.minus = true,
                '#' => fl.sharp = true,
                '0' => fl.zero = true,
                ' ' => fl.space = true,
                _ => break,
            }
            chars.next();
        }
        let num = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>, argi: &mut usize| {
            if chars.peek() == Some(&'*') {
                chars.next();
                let n = match args.get(*argi) {
                    Some(Value::Int(i)) => usize::try_from(*i).ok(),
                    _ => None,
                };
                *argi += 1;
                return n;
            }
            let mut n: Option<usize> = None;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
                chars.next();
            }
            n
        };
        fl.width = num(&mut chars, &mut argi);
        if fl.width.is_some_and(|w| w > MAX_WIDTH) {
            out.push_str("%!(BADWIDTH)");
            fl.width = None;
        }
        if chars.peek() == Some(&'.') {
            chars.next();
            fl.prec = Some(num(&mut chars, &mut argi).unwrap_or(0));
            if fl.prec.is_some_and(|p| p > MAX_WIDTH) {
                out.push_str("%!(BADPREC)");
                fl.prec = None;
            }
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(argi) {
            None => {
                let _ = write!(out, "%!{verb}(MISSING)");
            }
            Some(v) => one(&mut out, verb, fl, v),
        }
        argi += 1;
    }
    if argi < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, v) in args.iter().skip(argi).enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match v {
                Value::Nil => out.push_str("<nil>"),
                _ => {
                    let _ = write!(out, "{}={}", v.type_name(), v.to_go_string());
                }
            }
        }
        out.push(')');
    }
    out
}

/// Go's `fmt.Sprint(args...)`: spaces between operands when neither side is a string.
pub(super) fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, v) in args.iter().enumerate() {
        if i > 0 && !v.is_string() && args.get(i - 1).is_some_and(|p| !p.is_string()) {
            out.push(' ');
        }
        v.write_go(&mut out);
    }
    out
}

/// Go's `fmt.Sprintln(args...)`: always spaces, then a newline.
pub(super) fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, v) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        v.write_go(&mut out);
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_go() {
        for (f, want) in [
            (42.0, "42"),
            (0.5, "0.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e21, "1e+21"),
            (0.0, "0"),
            (-1.5, "-1.5"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(format_float(f, 'g', None), want, "{f}");
        }
        for (f, p, want) in [
            (1000.0, 4, "1000"),
            (12.0, 4, "12"),
            (12345.678, 4, "1.235e+04"),
            (1e6, 4, "1e+06"),
            (0.0, 4, "0"),
            (12.345, 4, "12.35"),
            (0.012345, 4, "0.01235"),
            (150.0, 4, "150"),
        ] {
            assert_eq!(format_float(f, 'g', Some(p)), want, "{f} %.{p}g");
        }
        assert_eq!(format_float(1234.5678, 'e', None), "1.234568e+03");
        assert_eq!(format_float(0.0, 'e', Some(2)), "0.00e+00");
        assert_eq!(format_float(0.0734, 'f', Some(3)), "0.073");
        assert_eq!(format_float(2.5, 'f', Some(0)), "2");
    }

    #[test]
    fn printf_verbs() {
        let s = |x: &str| Value::Str(x.into());
        for (fmt, args, want) in [
            ("%s=%d", vec![s("a"), Value::Int(3)], "a=3"),
            ("%.2f", vec![Value::Float(1.005)], "1.00"),
            ("%.2f", vec![Value::Float(2.0)], "2.00"),
            ("%5.1f|", vec![Value::Float(1.2345)], "  1.2|"),
            ("%-5d|", vec![Value::Int(42)], "42   |"),
            ("%05d", vec![Value::Int(-42)], "-0042"),
            ("%x %X", vec![Value::Int(255), Value::Int(255)], "ff FF"),
            ("%x", vec![s("hi")], "6869"),
            ("%q", vec![s("a\"b")], r#""a\"b""#),
            (
                "%v %v",
                vec![Value::Float(1e6), Value::Bool(true)],
                "1e+06 true",
            ),
            ("%d", vec![Value::Float(1.5)], "%!d(float64=1.5)"),
            ("%f", vec![Value::Int(1)], "%!f(int=1)"),
            ("%d %d", vec![Value::Int(1)], "1 %!d(MISSING)"),
            ("%d", vec![Value::Int(1), s("x")], "1%!(EXTRA string=x)"),
            ("100%%", vec![], "100%"),
            ("%+d", vec![Value::Int(5)], "+5"),
            ("%e", vec![Value::Float(123456.0)], "1.234560e+05"),
            ("%g", vec![Value::Float(0.000012)], "1.2e-05"),
            ("%t", vec![Value::Bool(false)], "false"),
            ("%s", vec![Value::Nil], "%!s(<nil>)"),
        ] {
            assert_eq!(sprintf(fmt, &args), want, "{fmt}");
        }
    }

    #[test]
    fn sprint_spacing() {
        assert_eq!(sprint(&[Value::Int(1), Value::Int(2)]), "1 2");
        assert_eq!(sprint(&[Value::Str("a".into()), Value::Int(2)]), "a2");
        assert_eq!(sprintln(&[Value::Str("a".into()), Value::Int(2)]), "a 2\n");
    }
}
