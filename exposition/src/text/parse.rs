//! Pull parser for the 0.0.4 text format, as strict as Go's `expfmt.TextParser`.

use std::borrow::Cow;

use crate::entry::{Entry, SampleEntry};
use crate::error::{excerpt, ErrorKind, ParseError};
use crate::escape::{check_text_help, unescape_help};
use crate::lex::{
    is_blank, metric_name_end, scan_labels, skip_blanks, take_while, Dialect, LabelSet, ScanError,
};
use crate::number::{parse_float, parse_millis};
use crate::{Format, MetricType, Timestamp};

/// Streaming, zero-copy parser for the 0.0.4 text format.
///
/// Call [`TextParser::next_entry`] until it returns [`Entry::Eof`]. Entries borrow from the
/// input; nothing is allocated per sample unless a label value has escapes and is read.
#[derive(Debug)]
pub struct TextParser<'a> {
    input: &'a [u8],
    pos: usize,
    line: usize,
    names: Vec<(usize, usize)>,
}

impl<'a> TextParser<'a> {
    /// A parser over `input`.
    pub fn new(input: &'a [u8]) -> Self {
        TextParser {
            input,
            pos: 0,
            line: 0,
            names: Vec::new(),
        }
    }

    /// The 1-based line number of the entry last returned.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The next entry.
    #[allow(clippy::should_implement_trait)]
    pub fn next_entry(&mut self) -> Result<Entry<'a>, ParseError> {
        loop {
            let rest = self.input.get(self.pos..).unwrap_or(&[]);
            if rest.is_empty() {
                return Ok(Entry::Eof);
            }
            self.line += 1;
            let Some(nl) = memchr::memchr(b'\n', rest) else {
                let col = rest.len() + 1;
                self.pos = self.input.len();
                return Err(ParseError::new(self.line, col, ErrorKind::UnexpectedEof));
            };
            self.pos += nl + 1;
            let bytes = rest.get(..nl).unwrap_or(&[]);
            let line = std::str::from_utf8(bytes).map_err(|e| {
                ParseError::new(self.line, e.valid_up_to() + 1, ErrorKind::InvalidUtf8)
            })?;
            let at = skip_blanks(bytes, 0);
            match bytes.get(at) {
                None => continue,
                Some(b'#') => {
                    let lineno = self.line;
                    return comment(line, at + 1)
                        .map_err(|(c, k)| ParseError::new(lineno, c + 1, k));
                }
                Some(_) => {
                    let lineno = self.line;
                    return sample(line, at, &mut self.names)
                        .map(Entry::Sample)
                        .map_err(|(c, k)| ParseError::new(lineno, c + 1, k));
                }
            }
        }
    }
}

impl<'a> Iterator for TextParser<'a> {
    type Item = Result<Entry<'a>, ParseError>;
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_entry() {
            Ok(Entry::Eof) => None,
            other => Some(other),
        }
    }
}

fn comment(line: &str, pos: usize) -> Result<Entry<'_>, ScanError> {
    let b = line.as_bytes();
    let kw_start = skip_blanks(b, pos);
    let kw_end = take_while(b, kw_start, |c| !is_blank(c));
    let keyword = b.get(kw_start..kw_end).unwrap_or(&[]);
    let free = || Entry::Comment(line.get(pos..).unwrap_or(""));
    if keyword != b"HELP" && keyword != b"TYPE" {
        return Ok(free());
    }
    if kw_end == b.len() {
        return Ok(free());
    }
    let name_start = skip_blanks(b, kw_end);
    let name_end = metric_name_end(b, name_start);
    if name_end == b.len() {
        // `# HELP` / `# HELP name` with nothing else: Go ignores these lines.
        return Ok(free());
    }
    if !b.get(name_end).copied().is_some_and(is_blank) {
        return Err((name_end, ErrorKind::InvalidMetricName));
    }
    let name = line.get(name_start..name_end).unwrap_or("");
    let text_start = skip_blanks(b, name_end);
    if text_start == b.len() {
        // Go sets nothing for `# HELP name ` / `# TYPE name ` (blanks only).
        return Ok(free());
    }
    let text = line.get(text_start..).unwrap_or("");
    if keyword == b"HELP" {
        check_text_help(text)
            .map_err(|(off, c)| (text_start + off, ErrorKind::InvalidEscape(c)))?;
        let help: Cow<'_, str> = unescape_help(text, Format::Text);
        return Ok(Entry::Help { name, help });
    }
    // Go reads the type up to the end of the line: `counter ` (trailing blank) is unknown.
    let metric_type = MetricType::from_text(text)
        .ok_or_else(|| (text_start, ErrorKind::UnknownType(text.to_owned())))?;
    Ok(Entry::Type { name, metric_type })
}

fn sample<'a>(
    line: &'a str,
    pos: usize,
    names: &mut Vec<(usize, usize)>,
) -> Result<SampleEntry<'a>, ScanError> {
    let b = line.as_bytes();
    let name_end = metric_name_end(b, pos);
    if name_end == pos {
        return Err((pos, ErrorKind::InvalidMetricName));
    }
    let name = line.get(pos..name_end).unwrap_or("");
    let mut i = skip_blanks(b, name_end);
    let mut labels = LabelSet::default();
    if b.get(i) == Some(&b'{') {
        let end = scan_labels(b, i + 1, Dialect::Text, names)?;
        labels = LabelSet::new(line.get(i + 1..end - 1).unwrap_or(""));
        i = skip_blanks(b, end);
    }
    let v_end = take_while(b, i, |c| !is_blank(c));
    let v_str = line.get(i..v_end).unwrap_or("");
    // Go's ParseFloat rejects out-of-range values (`1e500`) and a signed NaN.
    let value = parse_float(v_str)
        .filter(|v| !v.is_infinite() || v_str.bytes().any(|c| matches!(c, b'i' | b'I')))
        .filter(|v| !v.is_nan() || !v_str.starts_with(['+', '-']))
        .ok_or_else(|| (i, ErrorKind::InvalidValue(v_str.to_owned())))?;
    if v_end == b.len() {
        return Ok(SampleEntry {
            name,
            labels,
            value,
            timestamp: None,
            exemplar: None,
        });
    }
    let t_start = skip_blanks(b, v_end);
    let t_end = take_while(b, t_start, |c| !is_blank(c));
    let t_str = line.get(t_start..t_end).unwrap_or("");
    let ts = parse_millis(t_str)
        .ok_or_else(|| (t_start, ErrorKind::InvalidTimestamp(t_str.to_owned())))?;
    if t_end != b.len() {
        return Err((
            t_end,
            ErrorKind::TrailingText(excerpt(b.get(t_end..).unwrap_or(&[]))),
        ));
    }
    Ok(SampleEntry {
        name,
        labels,
        value,
        timestamp: Some(Timestamp::Millis(ts)),
        exemplar: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &str) -> Result<Vec<String>, ParseError> {
        let mut p = TextParser::new(input.as_bytes());
        let mut out = Vec::new();
        loop {
            match p.next_entry()? {
                Entry::Eof => return Ok(out),
                Entry::Sample(s) => out.push(format!(
                    "{} {:?} {} {:?}",
                    s.name,
                    s.labels.iter().collect::<Vec<_>>(),
                    s.value,
                    s.timestamp
                )),
                other => out.push(format!("{other:?}")),
            }
        }
    }

    #[test]
    fn accepts_go_whitespace_rules() {
        let got = all("name {a=\"1\",\tb = \"2\",}7\n  # free\n\nx 1 -5\n").unwrap_or_default();
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].starts_with("name [(\"a\", \"1\"), (\"b\", \"2\")] 7"));
        assert!(got[2].contains("Millis(-5)"));
    }

    #[test]
    fn rejects_with_position() {
        let e = all("ok 1\nbad 1 2 3\n").err();
        assert_eq!(e.map(|e| (e.line, e.column)), Some((2, 8)));
        assert!(all("a 1 \n").is_err());
        assert!(all("a 1\r\n").is_err());
        assert!(all("a 1").is_err());
        assert!(all("# HELP a x\\y\n").is_err());
        assert!(all("# TYPE a info\n").is_err());
        assert!(all("a 1 1.5\n").is_err());
        assert!(all("a 1e500\n").is_err());
        assert!(all("# HELP 1a x\n").is_err());
        assert!(all("# TYPE a counter \n").is_err());
        assert!(all("a -nan\n").is_err());
        assert!(all("# HELP a \n# HELP a x\n").is_ok());
        assert!(all("# TYPE a gauge_histogram\na 1\n").is_ok());
    }
}
