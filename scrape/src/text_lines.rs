//! The text format (0.0.4) scrape path: line by line, with a positional fast path that
//! parses only the value and timestamp of a line whose series part is byte-identical to
//! the previous scrape's line at the same sample position.
//!
//! The 0.0.4 grammar is line-local (kagari-exposition's `TextParser` keeps no state across
//! lines), so each line can be parsed on its own with the same result and the same error
//! (column included; the line number is fixed up here). All parsing is done by
//! `TextParser`; this module only decides how much of a line needs it.
//!
//! The positional token of a sample line is its bytes from the start of the line up to the
//! value, without the blanks before the value: `name`, `name{labels}` or `name {labels}`.
//! A later line takes the fast path when it starts with the token at the same sample
//! position, the token is followed by what can only end the series part (the token ends
//! with the closing `}`, or a blank follows a bare name), and what follows the blanks
//! after it does not start with `{`. Then the parser would read exactly the same series as
//! in the previous line, and the rest of the line (value, optional timestamp, end of line)
//! is what it reads next: that rest is parsed as the one-line input `a <rest>\n`, whose
//! value, timestamp and errors are the same as the full line's. Anything else (comments,
//! new series, reordered lines, any error) goes through a full parse of the line.

use kagari_exposition::{Entry, ParseError, TextParser};

use crate::error::ScrapeError;
use crate::process::{series_key, Run, Scratch};

/// Appends every sample of a text-format body.
pub(crate) fn append_text(
    run: &mut Run<'_>,
    scratch: &mut Scratch,
    body: &[u8],
) -> Result<(), ScrapeError> {
    let mut rest = body;
    let mut lineno = 0usize;
    let mut pos = 0usize;
    while !rest.is_empty() {
        lineno += 1;
        if let Some((len, slot, value, ts)) = fast_line(run, scratch, pos, rest) {
            if run.add_cached(slot, ts, value)? {
                run.cache.keep();
                rest = rest.get(len + 1..).unwrap_or(&[]);
                pos += 1;
                continue;
            }
        }
        let Some(nl) = memchr::memchr(b'\n', rest) else {
            // No final newline: the parser reports it.
            return Err(line_error(rest, lineno));
        };
        let (with_nl, next) = rest.split_at(nl + 1);
        rest = next;
        let line = with_nl.get(..nl).unwrap_or(&[]);
        let s = match TextParser::new(with_nl).next_entry() {
            Ok(Entry::Sample(s)) => s,
            Ok(_) => continue,
            Err(e) => return Err(fix_line(e, lineno)),
        };
        series_key(&mut scratch.key, &s);
        let slot = run.add_parsed(None, &scratch.key, &s)?;
        run.cache.record(token(line, s.timestamp.is_some()), slot);
        pos += 1;
    }
    Ok(())
}

/// Longest line rest (value and timestamp) the fast path looks at before leaving the line
/// to the parser.
const MAX_TAIL: usize = 64;

/// The fast path for the line at the start of `rest`: its length (without the newline),
/// slot, value and exposed timestamp (ms) when it repeats the series of the previous
/// scrape's sample at `pos`.
#[inline]
fn fast_line(
    run: &Run<'_>,
    scratch: &mut Scratch,
    pos: usize,
    rest: &[u8],
) -> Option<(usize, u32, f64, Option<i64>)> {
    let (token, slot) = run.cache.prev_token(pos)?;
    if token.is_empty() || !rest.starts_with(token) {
        return None;
    }
    let after = rest.get(token.len()..)?;
    let first = after.iter().take(MAX_TAIL).position(|&c| !is_blank(c))?;
    if first == 0 && token.last() != Some(&b'}') {
        // A bare name must be followed by a blank, or the name goes on.
        return None;
    }
    let tail = after.get(first..)?;
    if matches!(tail.first(), Some(b'{' | b'\n') | None) {
        return None;
    }
    // The common case in one pass: a plain decimal up to the newline.
    if let Some((v, n)) = plain_value(tail) {
        return Some((token.len() + first + n, slot, v, None));
    }
    // The line ends within a short distance of the series part (else: the parser).
    let nl = tail.iter().take(MAX_TAIL).position(|&c| c == b'\n')?;
    let len = token.len() + first + nl;
    let tail = tail.get(..nl)?;
    if let Some(v) = general_value(tail) {
        return Some((len, slot, v, None));
    }
    scratch.tail.clear();
    scratch.tail.extend_from_slice(b"a ");
    scratch.tail.extend_from_slice(tail);
    scratch.tail.push(b'\n');
    match TextParser::new(&scratch.tail).next_entry() {
        Ok(Entry::Sample(s)) if s.labels.raw().is_empty() => {
            Some((len, slot, s.value, s.timestamp.map(|t| t.as_millis())))
        }
        _ => None,
    }
}

/// Exact powers of ten (all representable in an `f64`).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The value of a line rest that is only a plain decimal number and the index of the
/// newline that ends it, in one pass, for the common case: `[-]digits[.digits]` with at
/// most 15 digits, then `\n`. The digits as an integer (exact) divided by a power of ten
/// (exact) is one correctly rounded division, so the result is the correctly rounded value
/// of the decimal, which is what `TextParser` gives (Go's `ParseFloat`); checked against it
/// by `plain_values_agree_with_the_parser`. Anything else returns `None`.
#[inline]
fn plain_value(rest: &[u8]) -> Option<(f64, usize)> {
    let neg = rest.first() == Some(&b'-');
    let mut mantissa = 0u64;
    let mut n = 0usize;
    let mut frac: Option<usize> = None;
    for (i, &c) in rest.iter().enumerate().skip(usize::from(neg)) {
        match c {
            b'0'..=b'9' if n < 15 => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                n += 1;
                if let Some(f) = frac.as_mut() {
                    *f += 1;
                }
            }
            b'.' if frac.is_none() => frac = Some(0),
            b'\n' if n > 0 => {
                let v = mantissa as f64 / POW10.get(frac.unwrap_or(0)).copied()?;
                return Some((if neg { -v } else { v }, i));
            }
            _ => return None,
        }
    }
    None
}

/// The value of a line rest (without the newline) that is a decimal [`plain_value`] does
/// not take (an exponent, more digits): Rust's correctly rounded parse, finite values only;
/// `None` for anything else (`NaN`, `+Inf`, hex, underscores, a timestamp), which the
/// parser then reads. Also checked by `plain_values_agree_with_the_parser`.
#[cold]
fn general_value(tail: &[u8]) -> Option<f64> {
    let plain = |c: &u8| matches!(c, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-');
    if tail.len() > 40 || !tail.iter().all(plain) {
        return None;
    }
    let v: f64 = std::str::from_utf8(tail).ok()?.parse().ok()?;
    v.is_finite().then_some(v)
}

/// The positional token of a line that parsed as a sample: its bytes before the value,
/// without the blanks in front of the value; empty (never matched) for a line that starts
/// with a blank.
fn token(line: &[u8], has_timestamp: bool) -> &[u8] {
    if line.first().is_none_or(|&c| is_blank(c)) {
        return &[];
    }
    let mut end = line.len();
    if has_timestamp {
        // A valid line has no trailing blank: the timestamp follows the last blank.
        end = line.iter().rposition(|&c| is_blank(c)).unwrap_or(0);
        end = trim_end(line, end);
    }
    // The value contains neither blanks nor `}`; the byte before it is one of them.
    let value_start = line
        .get(..end)
        .and_then(|l| l.iter().rposition(|&c| is_blank(c) || c == b'}'))
        .map_or(0, |i| i + 1);
    line.get(..trim_end(line, value_start)).unwrap_or(&[])
}

/// `end` moved back over blanks.
fn trim_end(line: &[u8], mut end: usize) -> usize {
    while end > 0 && line.get(end - 1).copied().is_some_and(is_blank) {
        end -= 1;
    }
    end
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// The error of a line parsed on its own, at its place in the body.
fn line_error(line: &[u8], lineno: usize) -> ScrapeError {
    match TextParser::new(line).next_entry() {
        Err(e) => fix_line(e, lineno),
        // Not reached: a line without its newline is always an error.
        Ok(_) => ScrapeError::Parse(ParseError {
            line: lineno,
            column: line.len() + 1,
            reason: kagari_exposition::ErrorKind::UnexpectedEof,
        }),
    }
}

fn fix_line(mut e: ParseError, lineno: usize) -> ScrapeError {
    e.line = lineno;
    ScrapeError::Parse(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_agree_with_the_parser() {
        let alphabet = b"0123456789.eE+-_xi ";
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let mut plain = 0;
        for i in 0..200_000u64 {
            let len = 1 + (rng.next() % if i % 2 == 0 { 6 } else { 24 }) as usize;
            let tok: Vec<u8> = (0..len)
                .map(|_| {
                    // Mostly digits, so long numbers come up.
                    let k = rng.next() % 40;
                    alphabet[if k < 20 {
                        (k % 10) as usize
                    } else {
                        (k % 19) as usize
                    }]
                })
                .collect();
            let mut with_nl = tok.clone();
            with_nl.push(b'\n');
            let got = match plain_value(&with_nl) {
                Some((v, n)) => {
                    assert_eq!(n, tok.len(), "{:?}", String::from_utf8_lossy(&tok));
                    Some(v)
                }
                None => general_value(&tok),
            };
            let Some(v) = got else {
                continue;
            };
            plain += 1;
            let mut line = b"a ".to_vec();
            line.extend_from_slice(&tok);
            line.push(b'\n');
            let text = String::from_utf8_lossy(&tok);
            match TextParser::new(&line).next_entry() {
                Ok(Entry::Sample(s)) => assert_eq!(
                    (s.value.to_bits(), s.timestamp),
                    (v.to_bits(), None),
                    "{text:?}"
                ),
                other => panic!("{text:?}: plain value {v}, parser {other:?}"),
            }
        }
        assert!(plain > 50_000, "only {plain} plain values");
        for tok in ["1e500", "-1e400", "NaN", "+Inf", "0x1p3", "1_0", "1 2", ""] {
            assert_eq!(general_value(tok.as_bytes()), None, "{tok:?}");
            assert_eq!(plain_value(format!("{tok}\n").as_bytes()), None, "{tok:?}");
        }
    }

    #[test]
    fn tokens_end_before_the_value() {
        let cases: [(&str, bool, &str); 7] = [
            ("x 1", false, "x"),
            ("x\t \t1", false, "x"),
            ("x{a=\"1\"} 1", false, "x{a=\"1\"}"),
            ("x {a=\"} 1\",} 1 123", true, "x {a=\"} 1\",}"),
            ("x{a=\"1\"}7", false, "x{a=\"1\"}"),
            ("x{}  +Inf  -5", true, "x{}"),
            (" x 1", false, ""),
        ];
        for (line, ts, want) in cases {
            let got = token(line.as_bytes(), ts);
            assert_eq!(String::from_utf8_lossy(got), want, "{line:?}");
        }
    }

    use crate::appender::{AppendError, Appender, SeriesRef};
    use crate::cache::ScrapeCache;
    use crate::config::ScrapeConfig;
    use crate::http_client::BodyFormat;
    use crate::process::{append_body, append_body_generic, SampleCfg, Stats};
    use kagari_model::Labels;
    use std::collections::HashMap;

    /// Records every append; refs are per label set.
    #[derive(Default)]
    struct Log {
        refs: HashMap<String, u64>,
        out: Vec<String>,
    }

    impl Appender for Log {
        fn append(
            &mut self,
            sref: Option<SeriesRef>,
            labels: &Labels,
            t: i64,
            v: f64,
        ) -> Result<SeriesRef, AppendError> {
            let n = self.refs.len() as u64;
            let r = *self.refs.entry(labels.to_string()).or_insert(n);
            self.out
                .push(format!("{sref:?} {labels} {t} {:x}", v.to_bits()));
            Ok(SeriesRef(r))
        }
        fn commit(self: Box<Self>) -> Result<(), AppendError> {
            Ok(())
        }
        fn rollback(self: Box<Self>) -> Result<(), AppendError> {
            Ok(())
        }
    }

    /// A small deterministic generator (xorshift).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[(self.next() % xs.len() as u64) as usize]
        }
        fn one_in(&mut self, n: u64) -> bool {
            self.next() % n == 0
        }
    }

    const VALUES: [&str; 15] = [
        "1",
        "2.5",
        "-3",
        "+Inf",
        "NaN",
        "1e3",
        "-nan",
        "1e500",
        "abc",
        "{b=\"2\"}",
        "{}",
        "5{",
        "0x1p3",
        "1_0",
        "{} 1",
    ];
    const STAMPS: [&str; 8] = ["", "", "", " 123", " -5", " 1.5", " 12 13", " 7 "];

    /// One line: comment (or blank) before it, lead, name, mid, labels, gap, value, stamp.
    type Spec = [&'static str; 8];

    /// Mostly valid, sometimes odd lines.
    fn specs(rng: &mut Rng) -> Vec<Spec> {
        let names = ["x", "xy", "x_total", "y"];
        let labels = [
            "",
            "{}",
            "{a=\"1\"}",
            "{a=\"1\",b=\"} 2\"}",
            "{a=\"1\",}",
            "{a=\"2\"}",
        ];
        let comments = [
            "# TYPE x counter\n",
            "# HELP x a\\b\n",
            "# HELP x bad\\q\n",
            "\n",
            "  \n",
            "# free\n",
        ];
        let n = 3 + rng.next() % 6;
        (0..n)
            .map(|i| {
                let comment = if rng.one_in(7) {
                    rng.pick(&comments)
                } else {
                    ""
                };
                let name = if rng.one_in(4) {
                    rng.pick(&names)
                } else {
                    names[(i % 2) as usize]
                };
                let lead = if rng.one_in(15) { " " } else { "" };
                let mid = if rng.one_in(6) { " " } else { "" };
                let lab = if rng.one_in(2) {
                    rng.pick(&labels[..3])
                } else {
                    labels[(i % 3) as usize + 2]
                };
                let gap = if lab.is_empty() || !rng.one_in(8) {
                    rng.pick(&[" ", " ", " ", "\t", "  "])
                } else {
                    ""
                };
                let val = if rng.one_in(5) {
                    rng.pick(&VALUES)
                } else {
                    rng.pick(&VALUES[..6])
                };
                let st = if rng.one_in(4) { rng.pick(&STAMPS) } else { "" };
                [comment, lead, name, mid, lab, gap, val, st]
            })
            .collect()
    }

    /// The same lines with new values, and now and then another gap, stamp, value kind or a
    /// name that runs on past the previous one.
    fn vary(rng: &mut Rng, specs: &[Spec]) -> Vec<Spec> {
        specs
            .iter()
            .map(|s| {
                let mut s = *s;
                s[6] = if rng.one_in(6) {
                    rng.pick(&VALUES)
                } else {
                    rng.pick(&VALUES[..6])
                };
                if rng.one_in(10) {
                    s[5] = rng.pick(&["", " ", "\t\t"]);
                }
                if rng.one_in(10) {
                    s[7] = rng.pick(&STAMPS);
                }
                if rng.one_in(12) {
                    s[3] = rng.pick(&["", "y", "y ", " "]);
                }
                s
            })
            .collect()
    }

    fn render(specs: &[Spec], rng: &mut Rng) -> String {
        let mut out: String = specs.iter().map(|s| s.concat() + "\n").collect();
        if rng.one_in(20) {
            out.pop();
        }
        out
    }

    /// One scrape the way the scrape loop does it.
    fn scrape(
        generic: bool,
        cache: &mut ScrapeCache,
        cfg: &SampleCfg,
        body: &str,
        ts: i64,
    ) -> String {
        let target = Labels::from_pairs([("job", "j"), ("instance", "i:1")]).unwrap();
        let mut log = Log::default();
        let mut scratch = Scratch::default();
        let mut stats = Stats::default();
        cache.begin();
        let r = if generic {
            append_body_generic(
                &mut log,
                cache,
                &mut scratch,
                cfg,
                &target,
                body.as_bytes(),
                ts,
                &mut stats,
            )
        } else {
            append_body(
                &mut log,
                cache,
                &mut scratch,
                cfg,
                &target,
                body.as_bytes(),
                BodyFormat::Text,
                ts,
                &mut stats,
            )
        };
        let r = r.and_then(|()| cache.finish_ok(&mut log, ts));
        let r = match r {
            Ok(()) => "ok".to_string(),
            Err(e) => {
                cache.forget_uncommitted();
                let _ = cache.mark_all_stale(&mut log, ts);
                e.to_string()
            }
        };
        format!(
            "{r} {:?} {:?}",
            (stats.scraped, stats.post_relabel, stats.added),
            log.out
        )
    }

    #[test]
    fn line_fast_path_agrees_with_the_plain_parser() {
        let mut repeats = 0;
        for seed in 1..2000u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let mut sc = ScrapeConfig {
                job_name: "j".into(),
                ..Default::default()
            };
            if seed % 5 == 0 {
                sc.sample_limit = 4;
            }
            let cfg = SampleCfg::new(&sc, 1);
            let (mut a, mut b) = (ScrapeCache::default(), ScrapeCache::default());
            let first = specs(&mut rng);
            for k in 0..6 {
                // Mostly the same lines with new values, sometimes fresh ones.
                let lines = match k {
                    0 => first.clone(),
                    _ if rng.one_in(4) => specs(&mut rng),
                    _ => vary(&mut rng, &first),
                };
                let text = render(&lines, &mut rng);
                let ts = 1000 * (k + 1);
                let want = scrape(true, &mut a, &cfg, &text, ts);
                let got = scrape(false, &mut b, &cfg, &text, ts);
                assert_eq!(got, want, "seed {seed} scrape {k}:\n{text}");
                if want.starts_with("ok") && k > 0 {
                    repeats += 1;
                }
            }
        }
        assert!(repeats > 1500, "only {repeats} successful repeat scrapes");
    }
}
