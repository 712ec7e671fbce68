//! The client's own rendering of plain sample lines, used by [`MetricWriter`] for the common
//! case (a family member with an integer value, no extra label, no exemplar) instead of going
//! through `kagari_exposition::Encoder` piece by piece.
//!
//! A family renders each series' label pairs once, when the series is created
//! ([`render_labels`]); encoding then appends `name suffix {consts,labels} value\n` to one
//! buffer shared with the exposition encoder ([`SharedBuf`]), so both write in order. The
//! bytes are exactly what the encoder writes for the same sample (tested in `tests/`).
//!
//! [`MetricWriter`]: crate::MetricWriter

use std::cell::RefCell;
use std::io;

use kagari_exposition::Value;

/// An `io::Write` appending to a buffer that the fast path appends to as well.
#[derive(Debug)]
pub(crate) struct SharedBuf<'a>(pub(crate) &'a RefCell<Vec<u8>>);

impl io::Write for SharedBuf<'_> {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A series' labels rendered once: `n1="v1",...,nk="vk"` (values escaped as both text formats
/// want), and the length of the part before the last value's `="`, i.e. `n1="v1",...,nk`.
#[derive(Debug)]
pub(crate) struct Rendered {
    text: Box<str>,
    prefix_len: usize,
}

impl Rendered {
    /// All pairs.
    #[inline]
    pub(crate) fn full(&self) -> &str {
        &self.text
    }

    /// The pairs but the last value: what the exposition encoder takes as the last label's
    /// name (it writes names verbatim), with the raw last value as its value.
    #[inline]
    pub(crate) fn prefix(&self) -> &str {
        self.text.get(..self.prefix_len).unwrap_or("")
    }
}

/// Renders the label pairs of a series (`None` without labels).
pub(crate) fn render_labels<S: AsRef<str>>(names: &[Box<str>], values: &[S]) -> Option<Rendered> {
    if names.is_empty() {
        return None;
    }
    let mut s = String::new();
    let mut prefix_len = 0;
    for (i, (n, v)) in names.iter().zip(values).enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(n);
        prefix_len = s.len();
        s.push_str("=\"");
        escape_into(&mut s, v.as_ref());
        s.push('"');
    }
    Some(Rendered {
        text: s.into_boxed_str(),
        prefix_len,
    })
}

/// Appends `v` with `\\`, `"` and newline escaped (label values in both formats).
pub(crate) fn escape_into(s: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
}

/// Renders `value` as the encoder would, when that is cheap: integers, and integral floats
/// below 10^6 in magnitude (Go's shortest `'g'` prints those without exponent or point).
/// `None` sends the sample to the exposition encoder.
#[inline]
pub(crate) fn quick_value(value: Value, buf: &mut itoa::Buffer) -> Option<&str> {
    match value {
        Value::UInt(u) => Some(buf.format(u)),
        Value::Int(i) => Some(buf.format(i)),
        Value::Float(f)
            if f.trunc() == f && f.abs() < 1e6 && (f != 0.0 || f.is_sign_positive()) =>
        {
            Some(buf.format(f as i64))
        }
        Value::Float(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_escaped_pairs_and_the_prefix() {
        let names: Vec<Box<str>> = vec!["a".into(), "b".into()];
        let r = render_labels(&names, &["x\"\\\ny", "ü"]).unwrap();
        assert_eq!(r.full(), "a=\"x\\\"\\\\\\ny\",b=\"ü\"");
        assert_eq!(r.prefix(), "a=\"x\\\"\\\\\\ny\",b");
        let one = render_labels(&names[..1], &["v"]).unwrap();
        assert_eq!((one.full(), one.prefix()), ("a=\"v\"", "a"));
        assert!(render_labels::<&str>(&[], &[]).is_none());
    }

    #[test]
    fn quick_values_match_go_or_step_aside() {
        let mut b = itoa::Buffer::new();
        let mut q = |v| quick_value(v, &mut b).map(str::to_owned);
        assert_eq!(
            q(Value::UInt(u64::MAX)).as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(q(Value::Int(-42)).as_deref(), Some("-42"));
        assert_eq!(q(Value::Float(3.0)).as_deref(), Some("3"));
        assert_eq!(q(Value::Float(-999_999.0)).as_deref(), Some("-999999"));
        assert_eq!(q(Value::Float(0.0)).as_deref(), Some("0"));
        for v in [
            -0.0,
            0.5,
            1e6,
            1.5e7,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
        ] {
            assert_eq!(q(Value::Float(v)), None, "{v}");
        }
    }
}
