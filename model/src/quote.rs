//! Go-compatible string quoting (`strconv.Quote`), the way Prometheus prints label values.
//!
//! Rust's `{:?}` differs from Go in many places (`\u{1}` vs `\x01`, `\'`, grapheme extenders),
//! so anything that must print exactly like Prometheus goes through [`quote_go`].

use std::fmt::{self, Write};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Quotes `s` exactly like Go's `strconv.Quote`.
///
/// Printable characters (Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols
/// and the ASCII space) are kept; `\a \b \f \n \r \t \v \\ \"` use their short escapes; other
/// control bytes become `\xNN`, other non-printable characters `\uNNNN` or `\UNNNNNNNN`.
///
/// ```
/// use kagari_model::quote_go;
/// assert_eq!(quote_go("a\"b\n\u{1}é\u{a0}"), r#""a\"b\n\x01é\u00a0""#);
/// ```
pub fn quote_go(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    // Writing into a String cannot fail.
    let _ = write_quoted_go(&mut out, s);
    out
}

/// Writes `s` quoted like Go's `strconv.Quote` to `w`, without allocating.
pub fn write_quoted_go<W: Write + ?Sized>(w: &mut W, s: &str) -> fmt::Result {
    w.write_char('"')?;
    // Copy runs of characters that need no escaping in one call.
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c != '"' && c != '\\' && is_go_print(c) {
            continue;
        }
        w.write_str(s.get(start..i).unwrap_or_default())?;
        write_escaped_char(w, c)?;
        start = i + c.len_utf8();
    }
    w.write_str(s.get(start..).unwrap_or_default())?;
    w.write_char('"')
}

/// Quotes arbitrary bytes like Go's `strconv.Quote` on a Go string holding them: valid UTF-8
/// is quoted as by [`quote_go`], and every byte of an invalid sequence becomes `\xNN`.
///
/// ```
/// use kagari_model::quote_go_bytes;
/// assert_eq!(quote_go_bytes(b"a\xffb"), r#""a\xffb""#);
/// ```
pub fn quote_go_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        let valid = quote_go(chunk.valid());
        // Strip the surrounding quotes of the valid part.
        out.push_str(valid.get(1..valid.len() - 1).unwrap_or_default());
        for &b in chunk.invalid() {
            push_hex_byte(&mut out, b);
        }
    }
    out.push('"');
    out
}

/// Appends `s` as a JSON string literal the way Go's `encoding/json` (and Prometheus's API,
/// through jsoniter's standard-library mode) writes it: `<`, `>`, `&`, U+2028 and U+2029 and
/// control characters as `\uNNNN`, `\n \r \t \" \\` short.
///
/// ```
/// let mut out = String::new();
/// kagari_model::push_json_string_go(&mut out, "a<b\n\u{1}");
/// assert_eq!(out, r#""a\u003cb\n\u0001""#);
/// ```
pub fn push_json_string_go(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => push_u_escape(out, c),
            c if u32::from(c) < 0x20 => push_u_escape(out, c),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_u_escape(out: &mut String, c: char) {
    out.push_str("\\u");
    // Writing into a String cannot fail.
    let _ = write_hex_digits(out, u32::from(c), 4);
}

fn push_hex_byte(out: &mut String, b: u8) {
    out.push_str("\\x");
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0xf)]));
}

fn write_escaped_char<W: Write + ?Sized>(w: &mut W, c: char) -> fmt::Result {
    match c {
        '"' => w.write_str("\\\""),
        '\\' => w.write_str("\\\\"),
        '\u{7}' => w.write_str("\\a"),
        '\u{8}' => w.write_str("\\b"),
        '\u{c}' => w.write_str("\\f"),
        '\n' => w.write_str("\\n"),
        '\r' => w.write_str("\\r"),
        '\t' => w.write_str("\\t"),
        '\u{b}' => w.write_str("\\v"),
        c if (c as u32) < 0x20 || c == '\u{7f}' => {
            let b = c as u32;
            w.write_str("\\x")?;
            write_hex_digits(w, b, 2)
        }
        c if (c as u32) < 0x10000 => {
            w.write_str("\\u")?;
            write_hex_digits(w, c as u32, 4)
        }
        c => {
            w.write_str("\\U")?;
            write_hex_digits(w, c as u32, 8)
        }
    }
}

fn write_hex_digits<W: Write + ?Sized>(w: &mut W, v: u32, digits: u32) -> fmt::Result {
    for shift in (0..digits).rev() {
        let nibble = (v >> (shift * 4)) & 0xf;
        w.write_char(char::from(HEX[nibble as usize]))?;
    }
    Ok(())
}

/// Go's `unicode.IsPrint`: categories L, M, N, P, S plus the ASCII space.
///
/// Rust's standard library keeps the same table for `escape_debug`: it escapes exactly the
/// categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs (except the ASCII space), which is the
/// complement of Go's definition. `str::escape_debug` does not escape grapheme extenders after
/// the first character, so we probe the character in second position.
fn is_go_print(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    let mut buf = [0u8; 8];
    buf[0] = b'a';
    let len = 1 + c.encode_utf8(&mut buf[1..]).len();
    let probe = std::str::from_utf8(&buf[..len]).unwrap_or_default();
    probe.escape_debug().nth(1) == Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected strings are what Go's strconv.Quote returns for the same input.
    #[test]
    fn ascii_and_short_escapes() {
        let cases: &[(&str, &str)] = &[
            ("", r#""""#),
            ("plain text 123", r#""plain text 123""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("'", r#""'""#),
            ("\u{7}\u{8}\u{c}\n\r\t\u{b}", r#""\a\b\f\n\r\t\v""#),
            ("\u{0}\u{1}\u{1f}\u{7f}", r#""\x00\x01\x1f\x7f""#),
        ];
        for (input, want) in cases {
            assert_eq!(quote_go(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn non_ascii() {
        let cases: &[(&str, &str)] = &[
            ("héllo 世界", r#""héllo 世界""#),
            ("\u{80}", r#""\u0080""#),         // C1 control
            ("\u{a0}", r#""\u00a0""#),         // no-break space (Zs)
            ("\u{200b}", r#""\u200b""#),       // zero width space (Cf)
            ("\u{2028}", r#""\u2028""#),       // line separator (Zl)
            ("\u{feff}", r#""\ufeff""#),       // BOM (Cf)
            ("\u{e000}", r#""\ue000""#),       // private use
            ("e\u{301}", "\"e\u{301}\""),      // combining mark is printable in Go
            ("\u{301}", "\"\u{301}\""),        // even at the start
            ("😀", "\"😀\""),                  // astral printable
            ("\u{10ffff}", r#""\U0010ffff""#), // unassigned astral
            ("\u{e0001}", r#""\U000e0001""#),  // language tag (Cf)
            ("\u{fffd}", "\"\u{fffd}\""),      // replacement char is a symbol
        ];
        for (input, want) in cases {
            assert_eq!(quote_go(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn invalid_utf8_bytes() {
        assert_eq!(quote_go_bytes(b"\xff"), r#""\xff""#);
        assert_eq!(quote_go_bytes(b"ok\xc3"), r#""ok\xc3""#);
        assert_eq!(quote_go_bytes(b"\xe2\x82"), r#""\xe2\x82""#);
        assert_eq!(quote_go_bytes("é\n".as_bytes()), "\"é\\n\"");
    }

    #[test]
    fn writer_variant_matches() {
        let mut s = String::from("x=");
        write_quoted_go(&mut s, "a\tb").unwrap();
        assert_eq!(s, r#"x="a\tb""#);
    }
}
