//! Executing a parsed template: variables, pipelines, control flow, field and method access.

use std::sync::Arc;

use super::funcs::{call_function, Ctx};
use super::parse::{Arg, Cmd, List, Node, Pipe, Tree};
use super::timefmt;
use super::value::{MapValue, Value};
use super::TemplateError;

const MAX_DEPTH: usize = 100;

enum Flow {
    Normal,
    Break,
    Continue,
}

/// One execution of a template.
pub(super) struct Exec<'a> {
    pub(super) name: &'a str,
    pub(super) src: &'a str,
    pub(super) tree: &'a Tree,
    pub(super) ctx: &'a Ctx<'a>,
    pub(super) vars: Vec<(String, Value)>,
    pub(super) out: String,
    pub(super) depth: usize,
}

/// A failure inside a command: a message still to be located at the command, or an error
/// from a nested pipeline that already carries its location.
pub(super) enum Fail {
    /// Message to be wrapped with the command's position.
    Msg(String),
    /// An already located error.
    Located(Box<TemplateError>),
}

/// Shorthand for a [`Fail::Msg`].
pub(super) fn fail<T>(msg: impl Into<String>) -> Result<T, Fail> {
    Err(Fail::Msg(msg.into()))
}

impl<'a> Exec<'a> {
    fn err(&self, pos: usize, at: &str, msg: String) -> TemplateError {
        let before = self.src.get(..pos).unwrap_or("");
        let line = 1 + before.bytes().filter(|c| *c == b'\n').count();
        let col = match before.rfind('\n') {
            Some(nl) => pos - nl - 1,
            None => pos,
        };
        TemplateError::Exec {
            name: self.name.to_string(),
            line,
            col,
            at: at.to_string(),
            msg,
        }
    }

    pub(super) fn run(&mut self, list: &List, dot: &Value) -> Result<(), TemplateError> {
        self.walk(list, dot).map(|_| ())
    }

    fn walk(&mut self, list: &List, dot: &Value) -> Result<Flow, TemplateError> {
        for node in list {
            match node {
                Node::Text(s) => self.out.push_str(s),
                Node::Action(p) => {
                    let v = self.pipe(p, dot)?;
                    if p.decl.is_empty() {
                        match &v {
                            Value::Nil => self.out.push_str("<no value>"),
                            v => v.write_go(&mut self.out),
                        }
                    }
                }
                Node::If(p, body, els) | Node::With(p, body, els) => {
                    let mark = self.vars.len();
                    let v = self.pipe(p, dot)?;
                    let flow = if v.truth() {
                        let d = if matches!(node, Node::With(..)) {
                            v
                        } else {
                            dot.clone()
                        };
                        self.walk(body, &d)?
                    } else if let Some(e) = els {
                        self.walk(e, dot)?
                    } else {
                        Flow::Normal
                    };
                    self.vars.truncate(mark);
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::Range(p, body, els) => {
                    let mark = self.vars.len();
                    let v = self.pipe_value(p, dot)?;
                    let items: Vec<(Value, Value)> = match &v {
                        Value::List(l) => l
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (Value::Int(i as i64), v.clone()))
                            .collect(),
                        Value::Map(m) => m
                            .entries
                            .iter()
                            .map(|(k, v)| (Value::Str(k.clone()), v.clone()))
                            .collect(),
                        Value::Int(n) => {
                            // Go 1.22 range over an integer, without materialising it.
                            let mark = self.vars.len();
                            if *n <= 0 {
                                if let Some(e) = els {
                                    let f = self.walk(e, dot)?;
                                    self.vars.truncate(mark);
                                    if !matches!(f, Flow::Normal) {
                                        return Ok(f);
                                    }
                                }
                                continue;
                            }
                            for i in 0..*n {
                                for name in p.decl.iter().take(2) {
                                    self.vars.push((name.clone(), Value::Int(i)));
                                }
                                let f = self.walk(body, &Value::Int(i))?;
                                self.vars.truncate(mark);
                                if matches!(f, Flow::Break) {
                                    break;
                                }
                            }
                            continue;
                        }
                        Value::Nil => Vec::new(),
                        other => {
                            let (pos, at) = p
                                .cmds
                                .last()
                                .map_or((p.pos, ""), |c| (c.pos, c.src.as_str()));
                            let msg = format!("range can't iterate over {}", other.to_go_string());
                            return Err(self.err(pos, at, msg));
                        }
                    };
                    if items.is_empty() {
                        if let Some(e) = els {
                            let f = self.walk(e, dot)?;
                            self.vars.truncate(mark);
                            if !matches!(f, Flow::Normal) {
                                return Ok(f);
                            }
                        }
                        continue;
                    }
                    for (k, v) in items {
                        match p.decl.as_slice() {
                            [] => {}
                            [e] => self.vars.push((e.clone(), v.clone())),
                            [i, e, ..] => {
                                self.vars.push((i.clone(), k));
                                self.vars.push((e.clone(), v.clone()));
                            }
                        }
                        let f = self.walk(body, &v)?;
                        self.vars.truncate(mark);
                        if matches!(f, Flow::Break) {
                            break;
                        }
                    }
                }
                Node::Template(name, p, pos) => {
                    let d = match p {
                        Some(p) => self.pipe(p, dot)?,
                        None => Value::Nil,
                    };
                    let Some(body) = self.tree.defines.get(name) else {
                        return Err(self.err(
                            *pos,
                            &format!("template {name:?}"),
                            format!("no such template {name:?}"),
                        ));
                    };
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(self.err(
                            *pos,
                            &format!("template {name:?}"),
                            format!("exceeded maximum template depth ({MAX_DEPTH})"),
                        ));
                    }
                    let saved =
                        std::mem::replace(&mut self.vars, vec![("$".to_string(), d.clone())]);
                    let r = self.walk(body, &d);
                    self.vars = saved;
                    self.depth -= 1;
                    r?;
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    /// Evaluates a range pipeline without declaring its variables (range binds them itself).
    fn pipe_value(&mut self, p: &Pipe, dot: &Value) -> Result<Value, TemplateError> {
        let mut v: Option<Value> = None;
        for c in &p.cmds {
            v = Some(self.cmd(c, dot, v)?);
        }
        Ok(v.unwrap_or_default())
    }

    fn pipe(&mut self, p: &Pipe, dot: &Value) -> Result<Value, TemplateError> {
        let v = self.pipe_value(p, dot)?;
        for name in &p.decl {
            if p.assign {
                if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    slot.1 = v.clone();
                }
            } else {
                self.vars.push((name.clone(), v.clone()));
            }
        }
        Ok(v)
    }

    fn var(&self, name: &str) -> Value {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn cmd(&mut self, c: &Cmd, dot: &Value, fin: Option<Value>) -> Result<Value, TemplateError> {
        self.cmd_inner(c, dot, fin).map_err(|f| match f {
            Fail::Msg(m) => self.err(c.pos, &c.src, m),
            Fail::Located(e) => *e,
        })
    }

    fn cmd_inner(&mut self, c: &Cmd, dot: &Value, fin: Option<Value>) -> Result<Value, Fail> {
        let Some(first) = c.args.first() else {
            return fail("empty command");
        };
        let rest = c.args.get(1..).unwrap_or(&[]);
        match first {
            Arg::Ident(name) => {
                if name == "and" || name == "or" {
                    return self.and_or(name == "and", rest, dot, fin);
                }
                let mut args = Vec::with_capacity(rest.len() + 1);
                for (i, a) in rest.iter().enumerate() {
                    // Go checks constants against the parameter type before calling.
                    if matches!(a, Arg::Number(..) | Arg::Bool(_)) && string_param(name, i) {
                        if let Some((pos, src)) = c.arg_src.get(i + 1) {
                            let msg = format!("expected string; found {src}");
                            return Err(Fail::Located(Box::new(self.err(*pos, src, msg))));
                        }
                    }
                    args.push(self.arg(a, dot)?);
                }
                args.extend(fin);
                call_function(self, name, args)
            }
            Arg::Field(fs) => self.chain(dot.clone(), fs, rest, dot, fin),
            Arg::Var(v, fs) => {
                let base = self.var(v);
                self.chain(base, fs, rest, dot, fin)
            }
            Arg::Pipe(p, fs) => {
                let base = self.sub_pipe(p, dot)?;
                self.chain(base, fs, rest, dot, fin)
            }
            Arg::Nil => fail("nil is not a command"),
            other => {
                if !rest.is_empty() || fin.is_some() {
                    return fail(format!("can't give argument to non-function {}", c.src));
                }
                self.arg(other, dot)
            }
        }
    }

    fn sub_pipe(&mut self, p: &Pipe, dot: &Value) -> Result<Value, Fail> {
        let mark = self.vars.len();
        let r = self.pipe(p, dot);
        self.vars.truncate(mark);
        r.map_err(|e| Fail::Located(Box::new(e)))
    }

    fn and_or(
        &mut self,
        and: bool,
        rest: &[Arg],
        dot: &Value,
        fin: Option<Value>,
    ) -> Result<Value, Fail> {
        let n = rest.len() + usize::from(fin.is_some());
        if n == 0 {
            return fail(format!(
                "wrong number of args for {}: want at least 1 got 0",
                if and { "and" } else { "or" }
            ));
        }
        let mut last = Value::Nil;
        for a in rest {
            last = self.arg(a, dot)?;
            if last.truth() != and {
                return Ok(last);
            }
        }
        if let Some(f) = fin {
            last = f;
        }
        Ok(last)
    }

    pub(super) fn arg(&mut self, a: &Arg, dot: &Value) -> Result<Value, Fail> {
        Ok(match a {
            Arg::Dot => dot.clone(),
            Arg::Field(fs) => self.chain(dot.clone(), fs, &[], dot, None)?,
            Arg::Var(v, fs) => {
                let base = self.var(v);
                self.chain(base, fs, &[], dot, None)?
            }
            Arg::Ident(name) => call_function(self, name, Vec::new())?,
            Arg::Pipe(p, fs) => {
                let base = self.sub_pipe(p, dot)?;
                self.chain(base, fs, &[], dot, None)?
            }
            Arg::Str(s) => Value::Str(s.clone()),
            Arg::Number(Some(i), _, false) => Value::Int(*i),
            Arg::Number(_, f, _) => Value::Float(*f),
            Arg::Bool(b) => Value::Bool(*b),
            Arg::Nil => Value::Nil,
        })
    }

    fn chain(
        &mut self,
        mut v: Value,
        fs: &[String],
        rest: &[Arg],
        dot: &Value,
        fin: Option<Value>,
    ) -> Result<Value, Fail> {
        let Some((last, init)) = fs.split_last() else {
            if !rest.is_empty() || fin.is_some() {
                return fail("can't give argument to non-function");
            }
            return Ok(v);
        };
        for f in init {
            v = field(&v, f, Vec::new())?;
        }
        let mut args = Vec::new();
        for a in rest {
            args.push(self.arg(a, dot)?);
        }
        args.extend(fin);
        field(&v, last, args)
    }
}

/// Whether parameter `i` of function `name` is a Go `string`.
fn string_param(name: &str, i: usize) -> bool {
    match name {
        "toUpper" | "toLower" | "title" | "safeHtml" | "urlQueryEscape" | "graphLink"
        | "tableLink" | "stripPort" | "stripDomain" | "parseDuration" | "query" | "label"
        | "sortByLabel" | "printf" => i == 0,
        "match" => i < 2,
        "reReplaceAll" => i < 3,
        _ => false,
    }
}

/// Field, map key or method access.
fn field(v: &Value, name: &str, args: Vec<Value>) -> Result<Value, Fail> {
    let no_args = |r: Value| {
        if args.is_empty() {
            Ok(r)
        } else {
            fail(format!(
                "{name} has arguments but cannot be invoked as function"
            ))
        }
    };
    match v {
        Value::Map(m) => no_args(
            m.entries
                .get(name)
                .cloned()
                .unwrap_or_else(|| m.missing.clone()),
        ),
        Value::Struct(s) => match s.fields.iter().find(|(n, _)| *n == name) {
            Some((_, f)) => no_args(f.clone()),
            None => fail(format!(
                "can't evaluate field {name} in type {}",
                s.type_name
            )),
        },
        Value::Time(ns) => time_method(*ns, name, &args),
        Value::Duration(ns) => {
            let secs = *ns as f64 / 1e9;
            match name {
                "String" => Ok(Value::Str(timefmt::duration_string(*ns))),
                "Seconds" => Ok(Value::Float(secs)),
                "Minutes" => Ok(Value::Float(secs / 60.0)),
                "Hours" => Ok(Value::Float(secs / 3600.0)),
                "Milliseconds" => Ok(Value::Int(ns / 1_000_000)),
                _ => fail(format!(
                    "can't evaluate field {name} in type *time.Duration"
                )),
            }
        }
        Value::Nil => fail(format!("nil pointer evaluating interface {{}}.{name}")),
        other => fail(format!(
            "can't evaluate field {name} in type {}",
            other.type_name()
        )),
    }
}

fn time_method(ns: i128, name: &str, args: &[Value]) -> Result<Value, Fail> {
    let want = |n: usize| {
        if args.len() == n {
            Ok(())
        } else {
            fail(format!(
                "wrong number of args for {name}: want {n} got {}",
                args.len()
            ))
        }
    };
    let secs = ns.div_euclid(1_000_000_000) as i64;
    Ok(match name {
        "Format" => {
            want(1)?;
            match args.first() {
                Some(Value::Str(l)) => Value::Str(timefmt::format(ns, l)),
                Some(o) => {
                    return fail(format!(
                        "wrong type for value; expected string; got {}",
                        o.type_name()
                    ))
                }
                None => Value::Nil,
            }
        }
        "String" => {
            want(0)?;
            Value::Str(timefmt::time_string(ns))
        }
        "UTC" | "Local" => {
            want(0)?;
            Value::Time(ns)
        }
        "Unix" => {
            want(0)?;
            Value::Int(secs)
        }
        "UnixMilli" => {
            want(0)?;
            Value::Int(ns.div_euclid(1_000_000) as i64)
        }
        "UnixNano" => {
            want(0)?;
            Value::Int(ns as i64)
        }
        "Year" | "Day" | "Hour" | "Minute" | "Second" | "YearDay" => {
            want(0)?;
            let l = match name {
                "Year" => "2006",
                "Day" => "2",
                "Hour" => "15",
                "Minute" => "4",
                "Second" => "5",
                _ => "002",
            };
            Value::Int(timefmt::format(ns, l).parse().unwrap_or(0))
        }
        _ => return fail(format!("can't evaluate field {name} in type *time.Time")),
    })
}

/// Builds a map whose missing keys are `nil` (Go `map[string]interface{}`).
pub(super) fn any_map(entries: impl IntoIterator<Item = (String, Value)>) -> Value {
    Value::Map(Arc::new(MapValue {
        entries: entries.into_iter().collect(),
        missing: Value::Nil,
    }))
}
