//! The parser of Go `text/template`: actions, control structures, pipelines and operands.

use std::collections::HashMap;

use super::lex::{lex, line_of, Tok, Token};
use super::TemplateError;

/// A list of nodes.
pub(super) type List = Vec<Node>;

/// A template node.
#[derive(Debug, Clone)]
pub(super) enum Node {
    /// Literal text.
    Text(String),
    /// `{{pipeline}}`.
    Action(Pipe),
    /// `{{if}}`; the else list holds `else if` chains as a nested `If`.
    If(Pipe, List, Option<List>),
    /// `{{range}}`.
    Range(Pipe, List, Option<List>),
    /// `{{with}}`.
    With(Pipe, List, Option<List>),
    /// `{{template "name" pipeline}}`.
    Template(String, Option<Pipe>, usize),
    /// `{{break}}`.
    Break,
    /// `{{continue}}`.
    Continue,
}

/// A pipeline with optional variable declarations.
#[derive(Debug, Clone)]
pub(super) struct Pipe {
    /// Byte offset.
    pub(super) pos: usize,
    /// Declared or assigned variables.
    pub(super) decl: Vec<String>,
    /// `=` rather than `:=`.
    pub(super) assign: bool,
    /// The commands, joined by `|`.
    pub(super) cmds: Vec<Cmd>,
}

/// One command of a pipeline.
#[derive(Debug, Clone)]
pub(super) struct Cmd {
    /// Byte offset.
    pub(super) pos: usize,
    /// Source text (for error messages).
    pub(super) src: String,
    /// Operands; the first may be a function.
    pub(super) args: Vec<Arg>,
    /// Byte offset and source text of each operand.
    pub(super) arg_src: Vec<(usize, String)>,
}

/// An operand.
#[derive(Debug, Clone)]
pub(super) enum Arg {
    /// `.`
    Dot,
    /// `.A.B` on dot.
    Field(Vec<String>),
    /// `$x.A.B`.
    Var(String, Vec<String>),
    /// A function name.
    Ident(String),
    /// `(pipeline).A.B`.
    Pipe(Box<Pipe>, Vec<String>),
    /// A string or raw string.
    Str(String),
    /// A number: its integer value if it is one, its float value, and whether it was written
    /// as a float (has `.`/exponent).
    Number(Option<i64>, f64, bool),
    /// `true` / `false`.
    Bool(bool),
    /// `nil`.
    Nil,
}

/// A parsed template set: the main body and `define`d templates.
#[derive(Debug, Clone, Default)]
pub(super) struct Tree {
    pub(super) root: List,
    pub(super) defines: HashMap<String, List>,
}

struct Parser<'a> {
    name: &'a str,
    src: &'a str,
    toks: Vec<Token>,
    i: usize,
    funcs: &'a dyn Fn(&str) -> bool,
    vars: Vec<String>,
    defines: HashMap<String, List>,
    in_range: usize,
    depth: usize,
}

/// Deepest nesting of control structures and parentheses accepted (keeps recursion bounded).
const MAX_NESTING: usize = 100;

enum Stop {
    End,
    Else(usize),
    Eof,
}

/// Parses `src`; `funcs` tells whether a function name is defined.
pub(super) fn parse(
    name: &str,
    src: &str,
    funcs: &dyn Fn(&str) -> bool,
) -> Result<Tree, TemplateError> {
    let toks = lex(name, src)?;
    let mut p = Parser {
        name,
        src,
        toks,
        i: 0,
        funcs,
        vars: vec!["$".into()],
        defines: HashMap::new(),
        in_range: 0,
        depth: 0,
    };
    let (root, end) = p.list(true)?;
    match end {
        Stop::Eof => {}
        Stop::End => return Err(p.err_at(p.pos(), "unexpected {{end}}")),
        Stop::Else(pos) => return Err(p.err_at(pos, "unexpected {{else}}")),
    }
    Ok(Tree {
        root,
        defines: p.defines,
    })
}

impl Parser<'_> {
    fn err_at(&self, pos: usize, msg: impl Into<String>) -> TemplateError {
        TemplateError::Parse {
            name: self.name.to_string(),
            line: line_of(self.src, pos),
            msg: msg.into(),
        }
    }

    fn pos(&self) -> usize {
        self.toks
            .get(self.i.saturating_sub(1))
            .map_or(self.src.len(), |t| t.pos)
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.tok)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).map(|t| t.tok.clone());
        self.i += 1;
        t
    }

    fn peek_non_space(&self) -> Option<&Tok> {
        let mut j = self.i;
        while let Some(Token {
            tok: Tok::Space, ..
        }) = self.toks.get(j)
        {
            j += 1;
        }
        self.toks.get(j).map(|t| &t.tok)
    }

    fn next_non_space(&mut self) -> Option<Tok> {
        while self.peek() == Some(&Tok::Space) {
            self.i += 1;
        }
        self.next()
    }

    fn expect_close(&mut self, ctx: &str) -> Result<(), TemplateError> {
        match self.next_non_space() {
            Some(Tok::Close) => Ok(()),
            t => Err(self.err_at(
                self.pos(),
                format!("unexpected {} in {ctx}", desc(t.as_ref())),
            )),
        }
    }

    fn list(&mut self, top: bool) -> Result<(List, Stop), TemplateError> {
        let mut out = Vec::new();
        loop {
            match self.next() {
                None => return Ok((out, Stop::Eof)),
                Some(Tok::Text(s)) => out.push(Node::Text(s)),
                Some(Tok::Open) => {
                    let pos = self.pos();
                    let kw = match self.peek_non_space() {
                        Some(Tok::Ident(k)) => k.clone(),
                        _ => String::new(),
                    };
                    match kw.as_str() {
                        "end" => {
                            self.next_non_space();
                            self.expect_close("end")?;
                            return Ok((out, Stop::End));
                        }
                        "else" => {
                            self.next_non_space();
                            return Ok((out, Stop::Else(pos)));
                        }
                        "if" | "range" | "with" => {
                            self.next_non_space();
                            out.push(self.control(&kw)?);
                        }
                        "define" if top => {
                            self.next_non_space();
                            self.define()?;
                        }
                        "block" => {
                            self.next_non_space();
                            let (name, pipe) = self.template_args("block")?;
                            let saved = std::mem::replace(&mut self.vars, vec!["$".into()]);
                            let (body, end) = self.list(false)?;
                            self.vars = saved;
                            if !matches!(end, Stop::End) {
                                return Err(self.err_at(pos, "unexpected EOF"));
                            }
                            self.defines.insert(name.clone(), body);
                            out.push(Node::Template(name, pipe, pos));
                        }
                        "template" => {
                            self.next_non_space();
                            let (name, pipe) = self.template_args("template")?;
                            out.push(Node::Template(name, pipe, pos));
                        }
                        "break" | "continue" => {
                            self.next_non_space();
                            if self.in_range == 0 {
                                return Err(
                                    self.err_at(pos, format!("{{{{{kw}}}}} outside {{{{range}}}}"))
                                );
                            }
                            self.expect_close(&kw)?;
                            out.push(if kw == "break" {
                                Node::Break
                            } else {
                                Node::Continue
                            });
                        }
                        _ => {
                            let pipe = self.pipeline("command", true)?;
                            out.push(Node::Action(pipe));
                        }
                    }
                }
                Some(t) => {
                    return Err(self.err_at(self.pos(), format!("unexpected {}", desc(Some(&t)))))
                }
            }
        }
    }

    fn define(&mut self) -> Result<(), TemplateError> {
        let pos = self.pos();
        let name = match self.next_non_space() {
            Some(Tok::Str(s)) => s,
            t => {
                return Err(self.err_at(
                    pos,
                    format!("unexpected {} in define clause", desc(t.as_ref())),
                ))
            }
        };
        self.expect_close("define clause")?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (body, end) = self.list(false)?;
        self.vars = saved;
        if !matches!(end, Stop::End) {
            return Err(self.err_at(pos, "unexpected EOF"));
        }
        self.defines.insert(name, body);
        Ok(())
    }

    fn template_args(&mut self, ctx: &str) -> Result<(String, Option<Pipe>), TemplateError> {
        let name = match self.next_non_space() {
            Some(Tok::Str(s)) => s,
            t => {
                return Err(self.err_at(
                    self.pos(),
                    format!("unexpected {} in {ctx} clause", desc(t.as_ref())),
                ))
            }
        };
        if self.peek_non_space() == Some(&Tok::Close) {
            self.next_non_space();
            return Ok((name, None));
        }
        Ok((name, Some(self.pipeline(ctx, false)?)))
    }

    fn control(&mut self, kw: &str) -> Result<Node, TemplateError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.err_at(self.pos(), "max nesting depth exceeded"));
        }
        let r = self.control_inner(kw);
        self.depth -= 1;
        r
    }

    fn control_inner(&mut self, kw: &str) -> Result<Node, TemplateError> {
        let nvars = self.vars.len();
        let pipe = self.pipeline(kw, true)?;
        if kw == "range" {
            self.in_range += 1;
        }
        let (body, end) = self.list(false)?;
        if kw == "range" {
            self.in_range -= 1;
        }
        let else_list = match end {
            Stop::End => None,
            Stop::Eof => return Err(self.err_at(pipe.pos, "unexpected EOF")),
            Stop::Else(_) => {
                match self.peek_non_space() {
                    Some(Tok::Ident(k)) if (k == "if" || k == "with") && kw == k => {
                        let k = k.clone();
                        self.next_non_space();
                        // `else if` / `else with`: a nested control sharing our {{end}}.
                        let nested = self.control(&k)?;
                        self.vars.truncate(nvars);
                        let node = match kw {
                            "if" => Node::If(pipe, body, Some(vec![nested])),
                            _ => Node::With(pipe, body, Some(vec![nested])),
                        };
                        return Ok(node);
                    }
                    _ => {}
                }
                self.expect_close("else")?;
                let (els, end) = self.list(false)?;
                match end {
                    Stop::End => {}
                    Stop::Else(pos) => return Err(self.err_at(pos, "expected end; found {{else}}")),
                    Stop::Eof => return Err(self.err_at(pipe.pos, "unexpected EOF")),
                }
                Some(els)
            }
        };
        self.vars.truncate(nvars);
        Ok(match kw {
            "if" => Node::If(pipe, body, else_list),
            "range" => Node::Range(pipe, body, else_list),
            _ => Node::With(pipe, body, else_list),
        })
    }

    /// Parses a pipeline up to `}}` (consumed) or, when `in_paren`, up to `)` (consumed).
    fn pipeline(&mut self, ctx: &str, allow_decl: bool) -> Result<Pipe, TemplateError> {
        self.pipeline_inner(ctx, allow_decl, false)
    }

    fn pipeline_inner(
        &mut self,
        ctx: &str,
        allow_decl: bool,
        in_paren: bool,
    ) -> Result<Pipe, TemplateError> {
        while self.peek() == Some(&Tok::Space) {
            self.i += 1;
        }
        let start_i = self.i;
        let pos = self.toks.get(self.i).map_or(self.src.len(), |t| t.pos);
        let mut decl = Vec::new();
        let mut assign = false;
        // Declarations: $x := / $x, $y := / $x =
        if allow_decl {
            let save = self.i;
            let mut names = Vec::new();
            while let Some(Tok::Var(v)) = self.next_non_space() {
                names.push(v);
                match self.next_non_space() {
                    Some(Tok::Declare) => {
                        decl = names;
                        break;
                    }
                    Some(Tok::Assign) => {
                        decl = names;
                        assign = true;
                        break;
                    }
                    Some(Tok::Comma) if names.len() == 1 && ctx == "range" => continue,
                    _ => break,
                }
            }
            if decl.is_empty() {
                self.i = save;
            } else if assign {
                for v in &decl {
                    if !self.vars.contains(v) {
                        return Err(self.err_at(pos, format!("undefined variable \"{v}\"")));
                    }
                }
            }
        }
        let _ = start_i;
        let mut cmds = Vec::new();
        loop {
            if self.peek_non_space() == Some(&Tok::Pipe) {
                self.next_non_space();
                return Err(self.err_at(self.pos(), "unexpected \"|\" in command"));
            }
            let cmd = self.command()?;
            let mut end = self.next_non_space();
            if cmd.args.is_empty() {
                return Err(self.err_at(pos, format!("missing value for {ctx}")));
            }
            cmds.push(cmd);
            // Like Go, a trailing `|` right before the end of the pipeline is accepted.
            if end == Some(Tok::Pipe)
                && matches!(self.peek_non_space(), Some(Tok::Close) | Some(Tok::RParen))
            {
                end = self.next_non_space();
            }
            match end {
                Some(Tok::Pipe) => continue,
                Some(Tok::Close) if !in_paren => break,
                Some(Tok::RParen) if in_paren => break,
                Some(Tok::Close) => return Err(self.err_at(self.pos(), "unclosed left paren")),
                t => {
                    return Err(self.err_at(
                        self.pos(),
                        format!("unexpected {} in {ctx}", desc(t.as_ref())),
                    ))
                }
            }
        }
        if !assign {
            self.vars.extend(decl.iter().cloned());
        }
        for c in cmds.iter().skip(1) {
            if let Some(a) = c.args.first() {
                if matches!(a, Arg::Str(_) | Arg::Number(..) | Arg::Bool(_) | Arg::Nil) {
                    return Err(self.err_at(
                        c.pos,
                        format!("non executable command in pipeline stage {}", 2),
                    ));
                }
            }
        }
        Ok(Pipe {
            pos,
            decl,
            assign,
            cmds,
        })
    }

    fn command(&mut self) -> Result<Cmd, TemplateError> {
        let mut args = Vec::new();
        let mut arg_src = Vec::new();
        while self.peek() == Some(&Tok::Space) {
            self.i += 1;
        }
        let pos = self.toks.get(self.i).map_or(self.src.len(), |t| t.pos);
        loop {
            match self.peek() {
                Some(Tok::Space) => {
                    self.i += 1;
                    continue;
                }
                None | Some(Tok::Close) | Some(Tok::Pipe) | Some(Tok::RParen) => break,
                _ => {}
            }
            let a_pos = self.toks.get(self.i).map_or(self.src.len(), |t| t.pos);
            let a = self.operand()?;
            args.push(a);
            let a_end = self.toks.get(self.i).map_or(self.src.len(), |t| t.pos);
            arg_src.push((a_pos, self.src.get(a_pos..a_end).unwrap_or("").to_string()));
            match self.peek() {
                Some(Tok::Space) | None | Some(Tok::Close) | Some(Tok::Pipe)
                | Some(Tok::RParen) => {}
                Some(t) => {
                    let t = t.clone();
                    return Err(self.err_at(
                        self.pos(),
                        format!("unexpected {} in operand", desc(Some(&t))),
                    ));
                }
            }
        }
        let end = self.toks.get(self.i).map_or(self.src.len(), |t| t.pos);
        let src = self.src.get(pos..end).unwrap_or("").trim().to_string();
        // Go reports a `$var.Field` command at its field part.
        let pos = match args.first() {
            Some(Arg::Var(v, fs)) if !fs.is_empty() => pos + v.len(),
            _ => pos,
        };
        Ok(Cmd {
            pos,
            src,
            args,
            arg_src,
        })
    }

    fn fields(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(Tok::Field(f)) = self.peek() {
            out.push(f.clone());
            self.i += 1;
        }
        out
    }

    fn operand(&mut self) -> Result<Arg, TemplateError> {
        let pos = self.toks.get(self.i).map_or(self.src.len(), |t| t.pos);
        let t = self.next();
        Ok(match t {
            Some(Tok::Dot) => Arg::Dot,
            Some(Tok::Field(f)) => {
                let mut fs = vec![f];
                fs.extend(self.fields());
                Arg::Field(fs)
            }
            Some(Tok::Var(v)) => {
                if !self.vars.contains(&v) {
                    return Err(self.err_at(pos, format!("undefined variable \"{v}\"")));
                }
                Arg::Var(v, self.fields())
            }
            Some(Tok::Ident(id)) => match id.as_str() {
                "true" => Arg::Bool(true),
                "false" => Arg::Bool(false),
                "nil" => Arg::Nil,
                _ => {
                    if !(self.funcs)(&id) {
                        return Err(self.err_at(pos, format!("function \"{id}\" not defined")));
                    }
                    Arg::Ident(id)
                }
            },
            Some(Tok::LParen) => {
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return Err(self.err_at(pos, "max nesting depth exceeded"));
                }
                let p = self.pipeline_inner("parenthesized pipeline", true, true);
                self.depth -= 1;
                Arg::Pipe(Box::new(p?), self.fields())
            }
            Some(Tok::Str(s)) => Arg::Str(s),
            Some(Tok::Char(c)) => Arg::Number(Some(c as i64), c as u32 as f64, false),
            Some(Tok::Number(n)) => number(&n)
                .ok_or_else(|| self.err_at(pos, format!("illegal number syntax: \"{n}\"")))?,
            t => {
                return Err(self.err_at(pos, format!("unexpected {} in operand", desc(t.as_ref()))))
            }
        })
    }
}

fn number(s: &str) -> Option<Arg> {
    let clean: String = s.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match clean.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
    };
    let lower = body.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|c| c.is_ascii_digit())
    {
        lower.get(1..).and_then(|o| i64::from_str_radix(o, 8).ok())
    } else {
        lower.parse::<i64>().ok()
    };
    let is_float_syntax = !lower.starts_with("0x") && lower.contains(['.', 'e']);
    let f = match int {
        Some(i) => i as f64,
        None => lower.parse::<f64>().ok()?,
    };
    let (int, f) = if neg { (int.map(|i| -i), -f) } else { (int, f) };
    if int.is_none() && !f.is_finite() {
        return None;
    }
    // A float literal with an integral value still counts as an integer constant in Go
    // only when written without '.'/exponent.
    let int = if is_float_syntax { None } else { int };
    Some(Arg::Number(int, f, is_float_syntax))
}

fn desc(t: Option<&Tok>) -> String {
    match t {
        None => "EOF".into(),
        Some(Tok::Close) => "\"}}\"".into(),
        Some(Tok::Open) => "\"{{\"".into(),
        Some(Tok::Text(_)) => "text".into(),
        Some(Tok::Ident(s)) => format!("<{s}>"),
        Some(Tok::Field(s)) => format!("<.{s}>"),
        Some(Tok::Var(s)) => format!("<{s}>"),
        Some(Tok::Str(s)) => format!("{s:?}"),
        Some(Tok::Number(s)) => format!("<{s}>"),
        Some(Tok::Char(c)) => format!("{c:?}"),
        Some(Tok::Dot) => "<.>".into(),
        Some(Tok::Pipe) => "\"|\"".into(),
        Some(Tok::LParen) => "\"(\"".into(),
        Some(Tok::RParen) => "\")\"".into(),
        Some(Tok::Declare) => "\":=\"".into(),
        Some(Tok::Assign) => "\"=\"".into(),
        Some(Tok::Comma) => "\",\"".into(),
        Some(Tok::Space) => "space".into(),
    }
}
