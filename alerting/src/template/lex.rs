//! The lexer of Go `text/template`: text, `{{ }}` actions with `-` trim markers, comments.

use super::TemplateError;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// Literal text between actions.
    Text(String),
    /// `{{` (trim already applied to the preceding text).
    Open,
    /// `}}`.
    Close,
    /// An identifier or keyword.
    Ident(String),
    /// `.Name` (one segment; `.` alone is [`Tok::Dot`]).
    Field(String),
    /// `.` alone.
    Dot,
    /// `$name` or `$`.
    Var(String),
    /// A quoted string, unescaped.
    Str(String),
    /// A number literal (source text).
    Number(String),
    /// A character constant, as its code point.
    Char(char),
    /// `|`.
    Pipe,
    /// `(`.
    LParen,
    /// `)`.
    RParen,
    /// `:=`.
    Declare,
    /// `=`.
    Assign,
    /// `,`.
    Comma,
    /// Whitespace inside an action (significant between operands).
    Space,
}

/// A token and the byte offset where it starts.
#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) pos: usize,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Splits `src` into tokens. `name` is used in error messages.
pub(super) fn lex(name: &str, src: &str) -> Result<Vec<Token>, TemplateError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut trim_next = false;
    let err = |pos: usize, msg: String| TemplateError::Parse {
        name: name.to_string(),
        line: line_of(src, pos),
        msg,
    };
    while i < b.len() {
        let open = src.get(i..).and_then(|s| s.find("{{")).map(|o| o + i);
        let text_end = open.unwrap_or(b.len());
        let mut text = src.get(i..text_end).unwrap_or("");
        if trim_next {
            text = text.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
        }
        let Some(open) = open else {
            if !text.is_empty() {
                out.push(Token {
                    tok: Tok::Text(text.to_string()),
                    pos: i,
                });
            }
            break;
        };
        // Left trim marker: "{{- " (dash followed by whitespace).
        let mut j = open + 2;
        let ltrim = b.get(j) == Some(&b'-') && b.get(j + 1).is_some_and(|c| is_space(*c));
        if ltrim {
            text = text.trim_end_matches(|c: char| c.is_ascii() && is_space(c as u8));
            j += 1;
        }
        if !text.is_empty() {
            out.push(Token {
                tok: Tok::Text(text.to_string()),
                pos: i,
            });
        }
        // Comment.
        let mut k = j;
        while b.get(k).is_some_and(|c| is_space(*c)) {
            k += 1;
        }
        if src.get(k..).is_some_and(|s| s.starts_with("/*")) {
            let Some(end) = src.get(k + 2..).and_then(|s| s.find("*/")) else {
                return Err(err(open, "unclosed comment".into()));
            };
            let m = k + 2 + end + 2;
            let (close, rtrim) = close_at(src, m);
            if !close {
                return Err(err(open, "comment ends before closing delimiter".into()));
            }
            trim_next = rtrim;
            i = m + if rtrim { 4 } else { 2 };
            continue;
        }
        out.push(Token {
            tok: Tok::Open,
            pos: open,
        });
        i = j;
        // Inside the action.
        loop {
            let Some(&c) = b.get(i) else {
                return Err(err(open, "unclosed action".into()));
            };
            let (close, rtrim) = close_at(src, i);
            if close {
                out.push(Token {
                    tok: Tok::Close,
                    pos: i,
                });
                trim_next = rtrim;
                i += if rtrim { 4 } else { 2 };
                break;
            }
            let start = i;
            let tok = match c {
                c if is_space(c) => {
                    while b.get(i).is_some_and(|c| is_space(*c)) {
                        if close_at(src, i).0 {
                            break;
                        }
                        i += 1;
                    }
                    if i == start {
                        // " -}}" begins right here.
                        i += 1;
                    }
                    Tok::Space
                }
                b'|' => {
                    i += 1;
                    Tok::Pipe
                }
                b'(' => {
                    i += 1;
                    Tok::LParen
                }
                b')' => {
                    i += 1;
                    Tok::RParen
                }
                b',' => {
                    i += 1;
                    Tok::Comma
                }
                b'=' => {
                    i += 1;
                    Tok::Assign
                }
                b':' => {
                    if b.get(i + 1) != Some(&b'=') {
                        return Err(err(i, "expected :=".into()));
                    }
                    i += 2;
                    Tok::Declare
                }
                b'"' => {
                    let (s, n) = unquote(src, i).map_err(|m| err(i, m))?;
                    i = n;
                    Tok::Str(s)
                }
                b'`' => {
                    let Some(end) = src.get(i + 1..).and_then(|s| s.find('`')) else {
                        return Err(err(i, "unterminated raw quoted string".into()));
                    };
                    let s = src.get(i + 1..i + 1 + end).unwrap_or("").to_string();
                    i = i + 2 + end;
                    Tok::Str(s)
                }
                b'\'' => {
                    let (s, n) = unquote(src, i).map_err(|m| err(i, m))?;
                    let mut cs = s.chars();
                    match (cs.next(), cs.next()) {
                        (Some(ch), None) => {
                            i = n;
                            Tok::Char(ch)
                        }
                        _ => {
                            return Err(err(
                                i,
                                format!(
                                    "malformed character constant: {}",
                                    src.get(start..n).unwrap_or("")
                                ),
                            ))
                        }
                    }
                }
                b'$' => {
                    i += 1;
                    while b
                        .get(i)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    {
                        i += 1;
                    }
                    Tok::Var(src.get(start..i).unwrap_or("$").to_string())
                }
                b'.' if !b.get(i + 1).is_some_and(|c| c.is_ascii_digit()) => {
                    i += 1;
                    while b
                        .get(i)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c >= 0x80)
                    {
                        i += 1;
                    }
                    if i == start + 1 {
                        Tok::Dot
                    } else {
                        Tok::Field(src.get(start + 1..i).unwrap_or("").to_string())
                    }
                }
                c if c.is_ascii_digit()
                    || c == b'.'
                    || ((c == b'-' || c == b'+')
                        && b.get(i + 1)
                            .is_some_and(|d| d.is_ascii_digit() || *d == b'.')) =>
                {
                    i += 1;
                    while b.get(i).is_some_and(|c| {
                        c.is_ascii_alphanumeric()
                            || *c == b'.'
                            || *c == b'_'
                            || ((*c == b'+' || *c == b'-')
                                && matches!(b.get(i - 1), Some(b'e' | b'E' | b'p' | b'P')))
                    }) {
                        i += 1;
                    }
                    Tok::Number(src.get(start..i).unwrap_or("").to_string())
                }
                c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                    while b
                        .get(i)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c >= 0x80)
                    {
                        i += 1;
                    }
                    Tok::Ident(src.get(start..i).unwrap_or("").to_string())
                }
                _ => {
                    let ch = src.get(i..).and_then(|s| s.chars().next()).unwrap_or('?');
                    let msg = if ch == '}' {
                        "unexpected \"}\" in operand".to_string()
                    } else {
                        format!(
                            "unrecognized character in action: U+{:04X} {ch:?}",
                            ch as u32
                        )
                    };
                    return Err(err(i, msg));
                }
            };
            out.push(Token { tok, pos: start });
        }
    }
    Ok(out)
}

/// Whether a closing delimiter (`}}` or ` -}}`) starts at `i`; second value: right trim.
fn close_at(src: &str, i: usize) -> (bool, bool) {
    let rest = src.get(i..).unwrap_or("");
    if rest.starts_with("}}") {
        return (true, false);
    }
    let b = rest.as_bytes();
    if b.first().is_some_and(|c| is_space(*c))
        && rest.get(1..).is_some_and(|r| r.starts_with("-}}"))
    {
        return (true, true);
    }
    (false, false)
}

/// The 1-based line of byte offset `pos`.
pub(super) fn line_of(src: &str, pos: usize) -> usize {
    1 + src
        .get(..pos)
        .map_or(0, |s| s.bytes().filter(|c| *c == b'\n').count())
}

/// Unquotes a Go interpreted string or char literal starting at `start`; returns the value
/// and the offset after the closing quote.
fn unquote(src: &str, start: usize) -> Result<(String, usize), String> {
    let quote = src.as_bytes().get(start).copied().unwrap_or(b'"') as char;
    let mut out = String::new();
    let mut it = src.get(start + 1..).unwrap_or("").char_indices();
    while let Some((off, c)) = it.next() {
        match c {
            c if c == quote => return Ok((out, start + 1 + off + 1)),
            '\n' => break,
            '\\' => {
                let Some((_, e)) = it.next() else { break };
                let simple = match e {
                    'a' => Some('\x07'),
                    'b' => Some('\x08'),
                    'f' => Some('\x0c'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    'v' => Some('\x0b'),
                    '\\' => Some('\\'),
                    '\'' => Some('\''),
                    '"' => Some('"'),
                    _ => None,
                };
                if let Some(s) = simple {
                    out.push(s);
                    continue;
                }
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    '0'..='7' => 2,
                    _ => return Err("invalid syntax".into()),
                };
                let mut digits = String::new();
                if e.is_ascii_digit() {
                    digits.push(e);
                }
                for _ in 0..n {
                    match it.next() {
                        Some((_, d)) => digits.push(d),
                        None => return Err("invalid syntax".into()),
                    }
                }
                let radix = if e.is_ascii_digit() { 8 } else { 16 };
                let v = u32::from_str_radix(&digits, radix)
                    .map_err(|_| "invalid syntax".to_string())?;
                out.push(char::from_u32(v).ok_or_else(|| "invalid syntax".to_string())?);
            }
            c => out.push(c),
        }
    }
    Err("unterminated quoted string".into())
}
