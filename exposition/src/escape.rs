//! Escaping and unescaping of label values and HELP text, per format.

use std::borrow::Cow;
use std::io::{self, Write};

use crate::Format;

/// Decodes a label value that the scanner has already validated (`\\`, `\"`, `\n`; in
/// OpenMetrics any other backslash sequence is kept as is).
pub(crate) fn unescape_label_value(raw: &str) -> Cow<'_, str> {
    unescape(raw, true)
}

/// Decodes HELP text: 0.0.4 knows `\\` and `\n` (validated before); OpenMetrics also `\"`
/// and keeps unknown sequences verbatim.
pub(crate) fn unescape_help(raw: &str, format: Format) -> Cow<'_, str> {
    unescape(raw, format == Format::OpenMetrics)
}

fn unescape(raw: &str, quote: bool) -> Cow<'_, str> {
    if memchr::memchr(b'\\', raw.as_bytes()).is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quote => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Checks HELP escapes for 0.0.4 (only `\\` and `\n`). Returns the byte offset and the
/// offending character of the first bad escape.
pub(crate) fn check_text_help(raw: &str) -> Result<(), (usize, char)> {
    let b = raw.as_bytes();
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'\\', b.get(i..).unwrap_or(&[])) {
        let at = i + off;
        match b.get(at + 1) {
            Some(b'\\') | Some(b'n') => i = at + 2,
            Some(_) => {
                let c = raw
                    .get(at + 1..)
                    .and_then(|r| r.chars().next())
                    .unwrap_or('?');
                return Err((at, c));
            }
            None => return Err((at, '\n')),
        }
    }
    Ok(())
}

/// Writes a label value with `\\`, `\"` and `\n` escaped.
pub(crate) fn write_label_value<W: Write>(w: &mut W, v: &str) -> io::Result<()> {
    write_escaped(w, v, true)
}

/// Writes HELP text escaped for `format`.
pub(crate) fn write_help<W: Write>(w: &mut W, v: &str, format: Format) -> io::Result<()> {
    write_escaped(w, v, format == Format::OpenMetrics)
}

fn write_escaped<W: Write>(w: &mut W, v: &str, quote: bool) -> io::Result<()> {
    let b = v.as_bytes();
    let mut start = 0;
    loop {
        let rest = b.get(start..).unwrap_or(&[]);
        let found = if quote {
            memchr::memchr3(b'\\', b'\n', b'"', rest)
        } else {
            memchr::memchr2(b'\\', b'\n', rest)
        };
        let Some(off) = found else {
            return w.write_all(rest);
        };
        w.write_all(rest.get(..off).unwrap_or(&[]))?;
        let esc: &[u8] = match rest.get(off) {
            Some(b'\\') => b"\\\\",
            Some(b'\n') => b"\\n",
            _ => b"\\\"",
        };
        w.write_all(esc)?;
        start += off + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        let v = "a\\b\"c\nd";
        let mut out = Vec::new();
        write_label_value(&mut out, v).unwrap_or_default();
        let s = String::from_utf8(out).unwrap_or_default();
        assert_eq!(s, "a\\\\b\\\"c\\nd");
        assert_eq!(unescape_label_value(&s), v);
        assert_eq!(unescape_label_value("b\\\\a\\z"), "b\\a\\z");
        assert_eq!(
            unescape_help("he\\n\\\\l\\tp", Format::OpenMetrics),
            "he\n\\l\\tp"
        );
        assert_eq!(unescape_help("x\\\"", Format::OpenMetrics), "x\"");
        assert!(check_text_help("a\\\"").is_err());
        assert!(check_text_help("a\\\\ \\n\"").is_ok());
    }
}
