//! Template functions: Go's builtins and Prometheus's alert template functions.

use std::cmp::Ordering;
use std::sync::Arc;

use super::exec::{any_map, fail, Exec, Fail};
use super::gofmt::{sprint, sprintf, sprintln};
use super::humanize;
use super::text::{
    html_escape, is_ip, js_escape, path_prefix, query_escape, split_host_port, title,
};
use super::value::{StructValue, Value};

pub(super) use super::Context as Ctx;

/// Every function name a template may call.
const NAMES: &[&str] = &[
    "and",
    "or",
    "not",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "len",
    "index",
    "slice",
    "print",
    "printf",
    "println",
    "html",
    "js",
    "urlquery",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "toDuration",
    "now",
    "toUpper",
    "toLower",
    "title",
    "reReplaceAll",
    "match",
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "sortByLabel",
    "args",
    "safeHtml",
    "externalURL",
    "pathPrefix",
    "parseDuration",
    "stripPort",
    "stripDomain",
    "graphLink",
    "tableLink",
    "urlQueryEscape",
];

/// Whether `name` is a template function.
pub(super) fn is_function(name: &str) -> bool {
    NAMES.contains(&name)
}

fn arity(name: &str, args: &[Value], n: usize) -> Result<(), Fail> {
    if args.len() == n {
        Ok(())
    } else {
        fail(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ))
    }
}

fn string_arg(v: &Value) -> Result<&str, Fail> {
    match v {
        Value::Str(s) | Value::SafeHtml(s) => Ok(s),
        o => fail(format!(
            "wrong type for value; expected string; got {}",
            o.type_name()
        )),
    }
}

fn calling(name: &str, msg: impl std::fmt::Display) -> Fail {
    Fail::Msg(format!("error calling {name}: {msg}"))
}

/// Go's `convertToFloat` (prometheus/common helpers/templates).
fn to_float(name: &str, v: &Value) -> Result<f64, Fail> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Duration(ns) => Ok(*ns as f64 / 1e9),
        Value::Str(s) => parse_go_float(s).ok_or_else(|| {
            calling(
                name,
                format!(
                    "strconv.ParseFloat: parsing {}: invalid syntax",
                    kagari_model::quote_go(s)
                ),
            )
        }),
        o => Err(calling(
            name,
            format!("can't convert {} to float", o.type_name()),
        )),
    }
}

fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.strip_prefix('+').unwrap_or(s);
    match t.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => {
            return Some(if s.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    t.replace('_', "").parse().ok()
}

fn sample_arg<'v>(name: &str, v: &'v Value) -> Result<&'v StructValue, Fail> {
    match v {
        Value::Struct(s) if s.type_name == "*template.sample" => Ok(s),
        o => fail(format!(
            "wrong type for value; expected *template.sample; got {}",
            o.type_name()
        ))
        .map_err(|e| match e {
            Fail::Msg(m) => Fail::Msg(format!("{m} (in {name})")),
            e => e,
        }),
    }
}

fn sample_field<'v>(s: &'v StructValue, field: &str) -> &'v Value {
    s.fields
        .iter()
        .find(|(n, _)| *n == field)
        .map_or(&Value::Nil, |(_, v)| v)
}

fn sample_label(s: &StructValue, label: &str) -> String {
    match sample_field(s, "Labels") {
        Value::Map(m) => match m.entries.get(label) {
            Some(Value::Str(v)) => v.clone(),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

fn list_arg(v: &Value) -> Result<&Arc<Vec<Value>>, Fail> {
    match v {
        Value::List(l) => Ok(l),
        o => fail(format!(
            "wrong type for value; expected template.queryResult; got {}",
            o.type_name()
        )),
    }
}

/// A query result sample as a template value (`.Labels`, `.Value`).
pub(super) fn sample_value(labels: &kagari_model::Labels, v: f64) -> Value {
    Value::Struct(Arc::new(StructValue {
        type_name: "*template.sample",
        fields: vec![
            (
                "Labels",
                Value::string_map(labels.iter().map(|l| (&*l.name, &*l.value))),
            ),
            ("Value", Value::Float(v)),
        ],
    }))
}

#[derive(PartialEq)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
}

fn kind(v: &Value) -> Option<Kind> {
    match v {
        Value::Bool(_) => Some(Kind::Bool),
        Value::Int(_) | Value::Duration(_) => Some(Kind::Int),
        Value::Float(_) => Some(Kind::Float),
        Value::Str(_) | Value::SafeHtml(_) => Some(Kind::Str),
        _ => None,
    }
}

fn compare(name: &str, a: &Value, b: &Value) -> Result<Option<Ordering>, Fail> {
    let (Some(ka), Some(kb)) = (kind(a), kind(b)) else {
        if name == "eq" || name == "ne" {
            if matches!((a, b), (Value::Nil, Value::Nil)) {
                return Ok(Some(Ordering::Equal));
            }
            return Err(calling(name, "incompatible types for comparison"));
        }
        return Err(calling(name, "invalid type for comparison"));
    };
    if ka != kb {
        return Err(calling(name, "incompatible types for comparison"));
    }
    Ok(match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => {
            if name != "eq" && name != "ne" {
                return Err(calling(name, "invalid type for comparison"));
            }
            Some(x.cmp(y))
        }
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Str(x) | Value::SafeHtml(x), Value::Str(y) | Value::SafeHtml(y)) => Some(x.cmp(y)),
        _ => {
            let i = |v: &Value| match v {
                Value::Int(i) | Value::Duration(i) => *i,
                _ => 0,
            };
            Some(i(a).cmp(&i(b)))
        }
    })
}

/// Go's `evalArgs`: a lone string is used as is, anything else goes through `fmt.Sprint`.
fn eval_args(args: &[Value]) -> String {
    match args {
        [Value::Str(s)] | [Value::SafeHtml(s)] => s.clone(),
        _ => sprint(args),
    }
}

fn compile(name: &str, pattern: &str) -> Result<regex::Regex, Fail> {
    regex::Regex::new(pattern).map_err(|e| calling(name, go_regex_error(pattern, &e)))
}

/// Words the common regex syntax errors as Go's `regexp` does
/// (`error parsing regexp: missing closing ]: `[``).
fn go_regex_error(pattern: &str, e: &regex::Error) -> String {
    let msg = e.to_string();
    let lines: Vec<&str> = msg.lines().collect();
    // Rust prints the pattern, a caret line under the offending span, then `error: …`.
    let caret = if pattern.contains('\n') {
        None
    } else {
        lines
            .iter()
            .find(|l| l.trim_start().starts_with('^'))
            .and_then(|l| l.find('^'))
            .and_then(|c| c.checked_sub(4))
    };
    let kind = lines
        .iter()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or("");
    let from_caret = caret.and_then(|c| pattern.get(c..)).unwrap_or(pattern);
    let go = match kind {
        "unclosed character class" => Some(format!("missing closing ]: `{from_caret}`")),
        "unclosed group" => Some(format!("missing closing ): `{pattern}`")),
        "unopened group" => Some(format!("unexpected ): `{pattern}`")),
        "repetition operator missing expression" => {
            let op: String = from_caret.chars().take(1).collect();
            Some(format!("missing argument to repetition operator: `{op}`"))
        }
        _ => None,
    };
    match go {
        Some(g) => format!("error parsing regexp: {g}"),
        None => format!("error parsing regexp: {}", kind_or(kind, &msg)),
    }
}

fn kind_or<'a>(kind: &'a str, msg: &'a str) -> &'a str {
    if kind.is_empty() {
        msg
    } else {
        kind
    }
}

/// Go's `strings.ToUpper`/`ToLower`: one-to-one (simple) case mapping, so `ß` stays `ß`
/// where Rust's full mapping would give `SS`.
fn simple_case(s: &str, upper: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let mut m = if upper {
            c.to_uppercase().collect::<Vec<char>>()
        } else {
            c.to_lowercase().collect::<Vec<char>>()
        };
        match (m.len(), c) {
            (1, _) => out.push(m.pop().unwrap_or(c)),
            (_, '\u{130}') if !upper => out.push('i'),
            _ => out.push(c),
        }
    }
    out
}

/// Calls function `name` with evaluated `args`.
pub(super) fn call_function(
    ex: &mut Exec<'_>,
    name: &str,
    args: Vec<Value>,
) -> Result<Value, Fail> {
    let a0 = args.first().cloned().unwrap_or_default();
    let a1 = args.get(1).cloned().unwrap_or_default();
    Ok(match name {
        "not" => {
            arity(name, &args, 1)?;
            Value::Bool(!a0.truth())
        }
        "eq" => {
            if args.len() < 2 {
                return fail(format!(
                    "wrong number of args for eq: want at least 2 got {}",
                    args.len()
                ));
            }
            let mut any = false;
            for b in args.iter().skip(1) {
                if compare(name, &a0, b)? == Some(Ordering::Equal) {
                    any = true;
                }
            }
            Value::Bool(any)
        }
        "ne" | "lt" | "le" | "gt" | "ge" => {
            arity(name, &args, 2)?;
            let o = compare(name, &a0, &a1)?;
            Value::Bool(match name {
                "ne" => o != Some(Ordering::Equal),
                "lt" => o == Some(Ordering::Less),
                "le" => matches!(o, Some(Ordering::Less | Ordering::Equal)),
                "gt" => o == Some(Ordering::Greater),
                _ => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
            })
        }
        "len" => {
            arity(name, &args, 1)?;
            Value::Int(match &a0 {
                Value::Str(s) | Value::SafeHtml(s) => s.len(),
                Value::Map(m) => m.entries.len(),
                Value::List(l) => l.len(),
                o => return Err(calling(name, format!("len of type {}", o.type_name()))),
            } as i64)
        }
        "index" => {
            if args.is_empty() {
                return fail("wrong number of args for index: want at least 1 got 0");
            }
            let mut v = a0;
            for ix in args.iter().skip(1) {
                v = match (&v, ix) {
                    (Value::List(l), Value::Int(i)) => {
                        match usize::try_from(*i).ok().and_then(|i| l.get(i)) {
                            Some(x) => x.clone(),
                            None => {
                                return Err(calling(
                                    name,
                                    format!("error calling index: index out of range: {i}"),
                                ))
                            }
                        }
                    }
                    (Value::Map(m), Value::Str(k)) => m
                        .entries
                        .get(k)
                        .cloned()
                        .unwrap_or_else(|| m.missing.clone()),
                    (Value::Nil, _) => return Err(calling(name, "index of untyped nil")),
                    (Value::Map(_), i) => {
                        let msg = format!("value has type {}; should be string", i.type_name());
                        return Err(calling(name, msg));
                    }
                    (Value::List(_), i) => {
                        let msg = format!("cannot index slice/array with type {}", i.type_name());
                        return Err(calling(name, msg));
                    }
                    (c, _) => {
                        let msg = format!("can't index item of type {}", c.type_name());
                        return Err(calling(name, msg));
                    }
                };
            }
            v
        }
        "slice" => {
            let idx: Vec<i64> = args
                .iter()
                .skip(1)
                .map(|v| if let Value::Int(i) = v { *i } else { -1 })
                .collect();
            let len = match &a0 {
                Value::Str(s) => s.len(),
                Value::List(l) => l.len(),
                o => {
                    return Err(calling(
                        name,
                        format!("can't slice item of type {}", o.type_name()),
                    ))
                }
            };
            let lo = idx.first().copied().unwrap_or(0);
            let hi = idx.get(1).copied().unwrap_or(len as i64);
            if lo < 0 || hi < lo || hi as usize > len {
                return Err(calling(name, format!("index out of range: {hi}")));
            }
            let (lo, hi) = (lo as usize, hi as usize);
            match &a0 {
                Value::Str(s) => Value::Str(s.get(lo..hi).unwrap_or("").to_string()),
                Value::List(l) => Value::List(Arc::new(l.get(lo..hi).unwrap_or(&[]).to_vec())),
                _ => Value::Nil,
            }
        }
        "print" => Value::Str(sprint(&args)),
        "println" => Value::Str(sprintln(&args)),
        "printf" => {
            let Some(Value::Str(f)) = args.first() else {
                return fail(
                    "wrong type for value; expected string; got ".to_string() + a0.type_name(),
                );
            };
            Value::Str(sprintf(f, args.get(1..).unwrap_or(&[])))
        }
        "html" => Value::Str(html_escape(&eval_args(&args))),
        "js" => Value::Str(js_escape(&eval_args(&args))),
        "urlquery" => Value::Str(query_escape(&eval_args(&args))),
        "humanize" | "humanize1024" | "humanizeDuration" | "humanizePercentage"
        | "humanizeTimestamp" => {
            arity(name, &args, 1)?;
            let v = to_float(name, &a0)?;
            Value::Str(match name {
                "humanize" => humanize::humanize(v),
                "humanize1024" => humanize::humanize1024(v),
                "humanizeDuration" => humanize::duration(v),
                "humanizePercentage" => humanize::percentage(v),
                _ => humanize::timestamp(v),
            })
        }
        "toTime" => {
            arity(name, &args, 1)?;
            Value::Time(humanize::unix_float_to_ns(to_float(name, &a0)?))
        }
        "toDuration" => {
            arity(name, &args, 1)?;
            Value::Duration((to_float(name, &a0)? * 1e9) as i64)
        }
        "now" => {
            arity(name, &args, 0)?;
            Value::Float(ex.ctx.ts_ms as f64 / 1000.0)
        }
        "toUpper" => {
            arity(name, &args, 1)?;
            Value::Str(simple_case(string_arg(&a0)?, true))
        }
        "toLower" => {
            arity(name, &args, 1)?;
            Value::Str(simple_case(string_arg(&a0)?, false))
        }
        "title" => {
            arity(name, &args, 1)?;
            Value::Str(title(string_arg(&a0)?))
        }
        "safeHtml" => {
            arity(name, &args, 1)?;
            Value::SafeHtml(string_arg(&a0)?.to_string())
        }
        "urlQueryEscape" => {
            arity(name, &args, 1)?;
            Value::Str(query_escape(string_arg(&a0)?))
        }
        "graphLink" | "tableLink" => {
            arity(name, &args, 1)?;
            let tab = if name == "graphLink" { 0 } else { 1 };
            Value::Str(format!(
                "/graph?g0.expr={}&g0.tab={tab}",
                query_escape(string_arg(&a0)?)
            ))
        }
        "reReplaceAll" => {
            arity(name, &args, 3)?;
            // Upstream uses regexp.MustCompile: the panic text becomes the error.
            let pattern = string_arg(&a0)?;
            let re = regex::Regex::new(pattern).map_err(|e| {
                let go = go_regex_error(pattern, &e);
                calling(name, format!("regexp: Compile(`{pattern}`): {go}"))
            })?;
            let text = string_arg(args.get(2).unwrap_or(&Value::Nil))?;
            Value::Str(re.replace_all(text, string_arg(&a1)?).into_owned())
        }
        "match" => {
            arity(name, &args, 2)?;
            let re = compile(name, string_arg(&a0)?)?;
            Value::Bool(re.is_match(string_arg(&a1)?))
        }
        "stripPort" => {
            arity(name, &args, 1)?;
            let s = string_arg(&a0)?;
            Value::Str(split_host_port(s).map_or(s, |(h, _)| h).to_string())
        }
        "stripDomain" => {
            arity(name, &args, 1)?;
            let s = string_arg(&a0)?;
            let (host, port) = split_host_port(s).unwrap_or((s, ""));
            if is_ip(host) {
                Value::Str(s.to_string())
            } else {
                let short = host.split('.').next().unwrap_or("");
                Value::Str(if port.is_empty() {
                    short.to_string()
                } else if short.contains(':') {
                    format!("[{short}]:{port}")
                } else {
                    format!("{short}:{port}")
                })
            }
        }
        "parseDuration" => {
            arity(name, &args, 1)?;
            let s = string_arg(&a0)?;
            let (neg, body) = match s.strip_prefix('-') {
                Some(b) => (true, b),
                None => (false, s),
            };
            let ms = kagari_promql::parse_duration(body).map_err(|_| {
                calling(
                    name,
                    format!("not a valid duration string: {}", kagari_model::quote_go(s)),
                )
            })?;
            let secs = ms as f64 / 1000.0;
            Value::Float(if neg { -secs } else { secs })
        }
        "externalURL" => {
            arity(name, &args, 0)?;
            Value::Str(ex.ctx.external_url.to_string())
        }
        "pathPrefix" => {
            arity(name, &args, 0)?;
            Value::Str(path_prefix(ex.ctx.external_url))
        }
        "args" => any_map(
            args.into_iter()
                .enumerate()
                .map(|(i, v)| (format!("arg{i}"), v)),
        ),
        "query" => {
            arity(name, &args, 1)?;
            let q = string_arg(&a0)?;
            let Some(qf) = ex.ctx.query else {
                return Err(calling(name, "no query engine available"));
            };
            let res = qf.query(q, ex.ctx.ts_ms).map_err(|e| calling(name, e))?;
            Value::List(Arc::new(
                res.iter().map(|(l, v)| sample_value(l, *v)).collect(),
            ))
        }
        "first" => {
            arity(name, &args, 1)?;
            match list_arg(&a0)?.first() {
                Some(v) => v.clone(),
                None => return Err(calling(name, "first() called on vector with no elements")),
            }
        }
        "label" => {
            arity(name, &args, 2)?;
            let l = string_arg(&a0)?;
            Value::Str(sample_label(sample_arg(name, &a1)?, l))
        }
        "value" => {
            arity(name, &args, 1)?;
            sample_field(sample_arg(name, &a0)?, "Value").clone()
        }
        "strvalue" => {
            arity(name, &args, 1)?;
            Value::Str(sample_label(sample_arg(name, &a0)?, "__value__"))
        }
        "sortByLabel" => {
            arity(name, &args, 2)?;
            let l = string_arg(&a0)?;
            let mut v: Vec<Value> = list_arg(&a1)?.as_ref().clone();
            let key = |x: &Value| match x {
                Value::Struct(s) => sample_label(s, l),
                _ => String::new(),
            };
            v.sort_by_key(key);
            Value::List(Arc::new(v))
        }
        _ => return fail(format!("function \"{name}\" not defined")),
    })
}
