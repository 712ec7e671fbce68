//! Pull parser for the OpenMetrics 1.0 text format (syntax only; semantic rules are checked by
//! the family-level API in [`crate::family`]).

use crate::entry::{Entry, ExemplarEntry, SampleEntry};
use crate::error::{excerpt, ErrorKind, ParseError};
use crate::escape::unescape_help;
use crate::lex::{
    found, is_valid_metric_name, metric_name_end, scan_labels, take_while, Dialect, LabelSet,
    ScanError,
};
use crate::number::{parse_float, parse_seconds};
use crate::{Format, MetricType, Timestamp};

/// Streaming, zero-copy parser for OpenMetrics 1.0 text.
///
/// It checks the line grammar (single spaces, no blank lines, `# EOF` last, exemplar syntax and
/// the 128-code-point exemplar limit). Family rules (grouping, clashes, types) need state across
/// lines; [`parse_openmetrics`](crate::parse_openmetrics) checks those.
#[derive(Debug)]
pub struct OpenMetricsParser<'a> {
    input: &'a [u8],
    pos: usize,
    line: usize,
    eof: bool,
    names: Vec<(usize, usize)>,
}

impl<'a> OpenMetricsParser<'a> {
    /// A parser over `input`.
    pub fn new(input: &'a [u8]) -> Self {
        OpenMetricsParser {
            input,
            pos: 0,
            line: 0,
            eof: false,
            names: Vec::new(),
        }
    }

    /// The 1-based line number of the entry last returned.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The next entry; [`Entry::Eof`] once `# EOF` has been read.
    pub fn next_entry(&mut self) -> Result<Entry<'a>, ParseError> {
        if self.eof {
            return Ok(Entry::Eof);
        }
        let rest = self.input.get(self.pos..).unwrap_or(&[]);
        self.line += 1;
        if rest.is_empty() {
            return Err(ParseError::new(self.line, 1, ErrorKind::MissingEof));
        }
        let (bytes, next) = match memchr::memchr(b'\n', rest) {
            Some(nl) => (rest.get(..nl).unwrap_or(&[]), self.pos + nl + 1),
            None => (rest, self.input.len()),
        };
        self.pos = next;
        let lineno = self.line;
        let err = |(c, k): ScanError| ParseError::new(lineno, c + 1, k);
        let line = std::str::from_utf8(bytes)
            .map_err(|e| ParseError::new(lineno, e.valid_up_to() + 1, ErrorKind::InvalidUtf8))?;
        if line == "# EOF" {
            if self.pos < self.input.len() {
                return Err(ParseError::new(lineno + 1, 1, ErrorKind::TextAfterEof));
            }
            self.eof = true;
            return Ok(Entry::Eof);
        }
        match bytes.first() {
            None => Err(ParseError::new(lineno, 1, ErrorKind::BlankLine)),
            Some(b'#') => metadata(line).map_err(err),
            Some(_) => sample(line, &mut self.names)
                .map(Entry::Sample)
                .map_err(err),
        }
    }
}

impl<'a> Iterator for OpenMetricsParser<'a> {
    type Item = Result<Entry<'a>, ParseError>;
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_entry() {
            Ok(Entry::Eof) => None,
            other => Some(other),
        }
    }
}

fn metadata(line: &str) -> Result<Entry<'_>, ScanError> {
    let (kind, rest) = if let Some(r) = line.strip_prefix("# HELP ") {
        ("HELP", r)
    } else if let Some(r) = line.strip_prefix("# TYPE ") {
        ("TYPE", r)
    } else if let Some(r) = line.strip_prefix("# UNIT ") {
        ("UNIT", r)
    } else {
        return Err((0, ErrorKind::InvalidComment));
    };
    let base = 7;
    let Some(sp) = rest.find(' ') else {
        return Err((line.len(), ErrorKind::MalformedMetadata(kind)));
    };
    let name = rest.get(..sp).unwrap_or("");
    if !is_valid_metric_name(name) {
        return Err((base, ErrorKind::InvalidMetricName));
    }
    let text = rest.get(sp + 1..).unwrap_or("");
    let text_col = base + sp + 1;
    match kind {
        "HELP" => Ok(Entry::Help {
            name,
            help: unescape_help(text, Format::OpenMetrics),
        }),
        "TYPE" => {
            let metric_type = MetricType::from_openmetrics(text)
                .ok_or_else(|| (text_col, ErrorKind::UnknownType(text.to_owned())))?;
            Ok(Entry::Type { name, metric_type })
        }
        _ => Ok(Entry::Unit { name, unit: text }),
    }
}

fn token_end(b: &[u8], pos: usize) -> usize {
    take_while(b, pos, |c| c != b' ')
}

fn sample<'a>(
    line: &'a str,
    names: &mut Vec<(usize, usize)>,
) -> Result<SampleEntry<'a>, ScanError> {
    let b = line.as_bytes();
    let name_end = metric_name_end(b, 0);
    if name_end == 0 {
        return Err((0, ErrorKind::InvalidMetricName));
    }
    let name = line.get(..name_end).unwrap_or("");
    let mut i = name_end;
    let mut labels = LabelSet::default();
    if b.get(i) == Some(&b'{') {
        let end = scan_labels(b, i + 1, Dialect::OpenMetrics, names)?;
        labels = LabelSet::new(line.get(i + 1..end - 1).unwrap_or(""));
        i = end;
    }
    expect_space(b, i, "' ' before the value")?;
    i += 1;
    let v_end = token_end(b, i);
    let v_str = line.get(i..v_end).unwrap_or("");
    let value = parse_float(v_str).ok_or_else(|| (i, ErrorKind::InvalidValue(v_str.to_owned())))?;
    let mut entry = SampleEntry {
        name,
        labels,
        value,
        timestamp: None,
        exemplar: None,
    };
    if v_end == b.len() {
        return Ok(entry);
    }
    i = v_end + 1;
    if b.get(i) != Some(&b'#') {
        let t_end = token_end(b, i);
        let t_str = line.get(i..t_end).unwrap_or("");
        let ts = parse_seconds(t_str)
            .ok_or_else(|| (i, ErrorKind::InvalidTimestamp(t_str.to_owned())))?;
        entry.timestamp = Some(Timestamp::Seconds(ts));
        if t_end == b.len() {
            return Ok(entry);
        }
        expect_space(b, t_end, "' ' before exemplar")?;
        i = t_end + 1;
        if b.get(i) != Some(&b'#') {
            return Err((
                i,
                ErrorKind::TrailingText(excerpt(b.get(i..).unwrap_or(&[]))),
            ));
        }
    }
    entry.exemplar = Some(exemplar(line, i + 1, names)?);
    Ok(entry)
}

fn expect_space(b: &[u8], i: usize, what: &'static str) -> Result<(), ScanError> {
    if b.get(i) == Some(&b' ') {
        Ok(())
    } else {
        Err((
            i,
            ErrorKind::Expected {
                expected: what,
                found: found(b, i),
            },
        ))
    }
}

/// Parses ` {labels} value [timestamp]` after the `#`.
fn exemplar<'a>(
    line: &'a str,
    mut i: usize,
    names: &mut Vec<(usize, usize)>,
) -> Result<ExemplarEntry<'a>, ScanError> {
    let b = line.as_bytes();
    expect_space(b, i, "' ' after '#'")?;
    i += 1;
    if b.get(i) != Some(&b'{') {
        return Err((
            i,
            ErrorKind::Expected {
                expected: "'{' to start exemplar labels",
                found: found(b, i),
            },
        ));
    }
    let end = scan_labels(b, i + 1, Dialect::OpenMetrics, names)?;
    let labels = LabelSet::new(line.get(i + 1..end - 1).unwrap_or(""));
    let len: usize = labels
        .iter()
        .map(|(n, v)| n.chars().count() + v.chars().count())
        .sum();
    if len > 128 {
        return Err((i, ErrorKind::ExemplarTooLong(len)));
    }
    expect_space(b, end, "' ' before exemplar value")?;
    i = end + 1;
    let v_end = token_end(b, i);
    let v_str = line.get(i..v_end).unwrap_or("");
    let value = parse_float(v_str).ok_or_else(|| (i, ErrorKind::InvalidValue(v_str.to_owned())))?;
    let mut ex = ExemplarEntry {
        labels,
        value,
        timestamp: None,
    };
    if v_end == b.len() {
        return Ok(ex);
    }
    i = v_end + 1;
    let t_end = token_end(b, i);
    let t_str = line.get(i..t_end).unwrap_or("");
    ex.timestamp = Some(
        parse_seconds(t_str).ok_or_else(|| (i, ErrorKind::InvalidTimestamp(t_str.to_owned())))?,
    );
    if t_end != b.len() {
        return Err((
            t_end,
            ErrorKind::TrailingText(excerpt(b.get(t_end..).unwrap_or(&[]))),
        ));
    }
    Ok(ex)
}
