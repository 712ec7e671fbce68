//! Reading a `.test` script into commands (the DSL of Prometheus's `promqltest`).

use std::fmt;

/// A script syntax error with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ScriptError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

fn err<T>(line: usize, reason: impl Into<String>) -> Result<T, ScriptError> {
    Err(ScriptError {
        line,
        reason: reason.into(),
    })
}

/// How an expected error or annotation text is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextMatch {
    /// Anything matches.
    Any,
    /// The complete text must be equal.
    Msg(String),
    /// The text must contain a match of this RE2 regex.
    Regex(String),
}

impl TextMatch {
    /// Whether `text` satisfies this expectation (an invalid regex matches nothing).
    pub fn matches(&self, text: &str) -> bool {
        match self {
            TextMatch::Any => true,
            TextMatch::Msg(m) => m == text,
            TextMatch::Regex(r) => regex::Regex::new(r).is_ok_and(|re| re.is_match(text)),
        }
    }
}

impl fmt::Display for TextMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextMatch::Any => f.write_str("any"),
            TextMatch::Msg(m) => write!(f, "msg {m:?}"),
            TextMatch::Regex(r) => write!(f, "regex {r:?}"),
        }
    }
}

/// When an eval runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalKind {
    /// `eval instant at T`.
    Instant {
        /// Evaluation time (ms).
        at: i64,
    },
    /// `eval range from S to E step D`.
    Range {
        /// Start (ms).
        start: i64,
        /// End (ms).
        end: i64,
        /// Step (ms).
        step: i64,
    },
}

/// One `eval` block.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalCmd {
    /// Line of the header.
    pub line: usize,
    /// The PromQL expression text.
    pub expr: String,
    /// Instant or range.
    pub kind: EvalKind,
    /// `expect fail` (or `eval_fail`).
    pub fail: Option<TextMatch>,
    /// `expect warn` lines.
    pub warn: Vec<TextMatch>,
    /// `expect info` lines.
    pub info: Vec<TextMatch>,
    /// `expect no_warn`.
    pub no_warn: bool,
    /// `expect no_info`.
    pub no_info: bool,
    /// `expect ordered` (or `eval_ordered`).
    pub ordered: bool,
    /// `expect string`.
    pub string: Option<String>,
    /// `expect range vector from to step`.
    pub range_vector: Option<(i64, i64, i64)>,
    /// Expected series lines (line number, text).
    pub series: Vec<(usize, String)>,
    /// Expected scalar.
    pub scalar: Option<f64>,
}

/// One command of a script.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `load` / `load_with_nhcb`.
    Load {
        /// Line of the header.
        line: usize,
        /// Sample spacing (ms).
        interval: i64,
        /// Whether classic histograms are also converted to NHCB.
        with_nhcb: bool,
        /// Series lines (line number, text).
        series: Vec<(usize, String)>,
    },
    /// `clear`.
    Clear,
    /// `eval ...`.
    Eval(Box<EvalCmd>),
}

/// Parses a DSL duration (`1m30s`, `0`, `20s500ms`) into milliseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    if s == "0" {
        return Some(0);
    }
    let units: [(&str, i64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ];
    let mut rest = s;
    let mut total: i64 = 0;
    let mut last_unit = 0usize;
    let mut any = false;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: i64 = rest.get(..digits)?.parse().ok()?;
        rest = rest.get(digits..)?;
        let (idx, mult, len) = if rest.starts_with("ms") {
            (6, 1, 2)
        } else {
            let c = rest.get(..1)?;
            let idx = units.iter().position(|(u, _)| *u == c)?;
            (idx, units.get(idx)?.1, 1)
        };
        if any && idx <= last_unit {
            return None;
        }
        any = true;
        last_unit = idx;
        total = total.checked_add(n.checked_mul(mult)?)?;
        rest = rest.get(len..)?;
    }
    any.then_some(total)
}

/// Parses a scalar line: Go integer syntax (with base prefixes) or Go float syntax.
pub fn parse_number(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else {
        None
    };
    if let Some(i) = int {
        let v = i as f64;
        return Some(if neg { -v } else { v });
    }
    if lower.is_empty()
        || !lower
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b".+-".contains(&c))
    {
        return None;
    }
    s.parse::<f64>().ok()
}

fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start_matches([' ', '\t']);
    match s.find([' ', '\t']) {
        Some(i) => (
            s.get(..i).unwrap_or(s),
            s.get(i..).unwrap_or("").trim_start_matches([' ', '\t']),
        ),
        None => (s, ""),
    }
}

fn dur(line: usize, s: &str) -> Result<i64, ScriptError> {
    parse_duration(s).map_or_else(|| err(line, format!("invalid duration {s:?}")), Ok)
}

/// Parses a whole script.
pub fn parse_script(src: &str) -> Result<Vec<Command>, ScriptError> {
    let lines: Vec<&str> = src
        .lines()
        .map(|l| l.trim_matches([' ', '\t', '\r']))
        .collect();
    let is_blank = |l: &str| l.is_empty() || l.starts_with('#');
    let mut cmds = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let l = lines.get(i).copied().unwrap_or("");
        i += 1;
        if is_blank(l) {
            continue;
        }
        let (word, rest) = split_word(l);
        let lw = word.to_ascii_lowercase();
        // Body: following non-blank lines.
        let mut body = Vec::new();
        while let Some(&b) = lines.get(i).filter(|_| lw != "clear") {
            if is_blank(b) {
                break;
            }
            body.push((i + 1, b.to_string()));
            i += 1;
            if lw.starts_with("eval") && parse_number(b).is_some() {
                break;
            }
        }
        if lw == "clear" {
            cmds.push(Command::Clear);
        } else if lw.starts_with("load") {
            let interval = dur(line_no, rest.trim())?;
            cmds.push(Command::Load {
                line: line_no,
                interval,
                with_nhcb: lw == "load_with_nhcb",
                series: body,
            });
        } else if lw.starts_with("eval") {
            cmds.push(Command::Eval(Box::new(parse_eval(
                line_no, &lw, rest, body,
            )?)));
        } else {
            return err(line_no, format!("unknown command {word:?}"));
        }
    }
    Ok(cmds)
}

fn parse_eval(
    line: usize,
    word: &str,
    rest: &str,
    body: Vec<(usize, String)>,
) -> Result<EvalCmd, ScriptError> {
    let (mode, rest) = split_word(rest);
    let (kind, expr) = match mode {
        "instant" => {
            let (at_kw, rest) = split_word(rest);
            if at_kw != "at" {
                return err(line, "expected 'at' after 'eval instant'");
            }
            let (t, expr) = split_word(rest);
            (EvalKind::Instant { at: dur(line, t)? }, expr)
        }
        "range" => {
            let mut vals = [0i64; 3];
            let mut rest = rest;
            for (kw, slot) in ["from", "to", "step"].iter().zip(vals.iter_mut()) {
                let (k, r) = split_word(rest);
                if k != *kw {
                    return err(line, format!("expected {kw:?} in range eval"));
                }
                let (v, r) = split_word(r);
                *slot = dur(line, v)?;
                rest = r;
            }
            let [start, end, step] = vals;
            if end < start {
                return err(line, "end time before start time");
            }
            (EvalKind::Range { start, end, step }, rest)
        }
        _ => return err(line, format!("invalid eval mode {mode:?}")),
    };
    let mut cmd = EvalCmd {
        line,
        expr: expr.to_string(),
        kind,
        fail: None,
        warn: Vec::new(),
        info: Vec::new(),
        no_warn: false,
        no_info: false,
        ordered: false,
        string: None,
        range_vector: None,
        series: Vec::new(),
        scalar: None,
    };
    match word {
        "eval" => {}
        "eval_fail" => cmd.fail = Some(TextMatch::Any),
        "eval_warn" => cmd.warn.push(TextMatch::Any),
        "eval_info" => cmd.info.push(TextMatch::Any),
        "eval_ordered" => cmd.ordered = true,
        _ => return err(line, format!("unknown eval command {word:?}")),
    }
    for (bl, text) in body {
        if let Some(msg) = text.strip_prefix("expected_fail_message ") {
            cmd.fail = Some(TextMatch::Msg(msg.trim().to_string()));
            continue;
        }
        if let Some(re) = text.strip_prefix("expected_fail_regexp ") {
            cmd.fail = Some(TextMatch::Regex(re.trim().to_string()));
            continue;
        }
        let (w, rest) = split_word(&text);
        if w == "expect" {
            parse_expect(bl, rest, &mut cmd)?;
        } else if let Some(v) = parse_number(&text) {
            cmd.scalar = Some(v);
        } else {
            cmd.series.push((bl, text));
        }
    }
    if cmd.ordered && matches!(cmd.kind, EvalKind::Range { .. }) {
        return err(line, "expect ordered is not allowed on range evals");
    }
    Ok(cmd)
}

fn parse_expect(line: usize, rest: &str, cmd: &mut EvalCmd) -> Result<(), ScriptError> {
    if let Some(r) = rest.strip_prefix("range vector ") {
        let mut vals = [0i64; 3];
        let mut r = r;
        for (kw, slot) in ["from", "to", "step"].iter().zip(vals.iter_mut()) {
            let (k, rr) = split_word(r);
            if k != *kw {
                return err(line, format!("expected {kw:?} in expect range vector"));
            }
            let (v, rr) = split_word(rr);
            *slot = dur(line, v)?;
            r = rr;
        }
        cmd.range_vector = Some((vals[0], vals[1], vals[2]));
        return Ok(());
    }
    if let Some(r) = rest.strip_prefix("string ") {
        let r = r.trim();
        let s = if let Some(inner) = r.strip_prefix('`').and_then(|x| x.strip_suffix('`')) {
            inner.to_string()
        } else if let Some(inner) = r.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
            unescape(inner)
        } else {
            return err(line, "expect string needs a quoted string");
        };
        cmd.string = Some(s);
        return Ok(());
    }
    let (kind, tail) = split_word(rest);
    let m = if tail.is_empty() {
        TextMatch::Any
    } else if let Some(t) = tail.strip_prefix("msg:") {
        let t = t.trim();
        if t.is_empty() {
            return err(line, "empty msg");
        }
        TextMatch::Msg(t.to_string())
    } else if let Some(t) = tail.strip_prefix("regex:") {
        let t = t.trim();
        if t.is_empty() {
            return err(line, "empty regex");
        }
        TextMatch::Regex(t.to_string())
    } else {
        return err(line, format!("invalid expect line modifier {tail:?}"));
    };
    match kind {
        "fail" => {
            if cmd.fail.is_some() {
                return err(line, "more than one expect fail");
            }
            cmd.fail = Some(m);
        }
        "warn" => cmd.warn.push(m),
        "info" => cmd.info.push(m),
        "no_warn" => cmd.no_warn = true,
        "no_info" => cmd.no_info = true,
        "ordered" => cmd.ordered = true,
        _ => return err(line, format!("unknown expect kind {kind:?}")),
    }
    if (cmd.no_warn && !cmd.warn.is_empty()) || (cmd.no_info && !cmd.info.is_empty()) {
        return err(line, "conflicting expect lines");
    }
    Ok(())
}

/// Minimal Go-style unescaping for `expect string "..."`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("1m30s"), Some(90_000));
        assert_eq!(parse_duration("20s500ms"), Some(20_500));
        assert_eq!(parse_duration("1h1h"), None);
        assert_eq!(parse_duration("1s1m"), None);
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("0.2"), Some(0.2));
        assert_eq!(parse_number("+Inf"), Some(f64::INFINITY));
        assert!(parse_number("NaN").unwrap().is_nan());
        assert_eq!(parse_number("0x10"), Some(16.0));
        assert_eq!(parse_number("{} 1"), None);
        assert_eq!(parse_number("foo"), None);
    }

    #[test]
    fn blocks_end_at_comments_and_scalars() {
        let src = "load 1m\n  a 1+1x3\n\neval instant at 1m a\n  # c\n\neval range from 0 to 2m step 1m a\n  expect warn msg: PromQL warning: x\n  {} 1 2\n\neval instant at 0 scalar(a)\n  1\n  expect fail\n";
        let cmds = parse_script(src).unwrap_err();
        // `expect fail` after a scalar starts a new top-level command: a broken file.
        assert_eq!(cmds.line, 13);
        let src = "load 1m\n  a 1+1x3\n\neval instant at 1m a\n  # c\n\neval range from 0 to 2m step 1m a\n  expect warn msg: PromQL warning: x\n  {} 1 2\n\neval instant at 0 scalar(a)\n  1\n";
        let cmds = parse_script(src).unwrap();
        assert_eq!(cmds.len(), 4);
        let Command::Eval(e) = &cmds[1] else {
            panic!("not eval")
        };
        assert!(e.series.is_empty());
        let Command::Eval(e) = &cmds[2] else {
            panic!("not eval")
        };
        assert_eq!(e.warn, [TextMatch::Msg("PromQL warning: x".into())]);
        assert_eq!(
            e.kind,
            EvalKind::Range {
                start: 0,
                end: 120_000,
                step: 60_000
            }
        );
        let Command::Eval(e) = &cmds[3] else {
            panic!("not eval")
        };
        assert_eq!(e.scalar, Some(1.0));
    }
}
