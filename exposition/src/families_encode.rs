//! Encoding parsed [`MetricFamily`] values, including the 0.0.4 → OpenMetrics conversion.

use std::collections::HashSet;
use std::io::{self, Write};

use crate::encode::{
    write_exemplar, write_float, write_labels, write_millis_as_seconds, write_seconds,
};
use crate::error::{EncodeError, ParseError};
use crate::escape::write_help;
use crate::family::{MetricFamily, Sample};
use crate::{parse_openmetrics, Format, MetricType, Timestamp};

/// Encodes families in `format`.
///
/// Text: counters whose samples are all `<name>_total` get `# TYPE <name>_total counter`,
/// `_created` samples of counters, histograms and summaries and all exemplars are dropped, units
/// are dropped and OpenMetrics-only types become gauge/histogram. A family that a 0.0.4 parser
/// would file under a summary or histogram (`x_sum` next to summary `x`) is written before that
/// family, so the output parses back into the same families; if the summary or histogram holds
/// samples of that name too, [`EncodeError::NotExpressibleAsText`] is returned.
///
/// OpenMetrics: a 0.0.4 counter `foo_total` becomes family `foo`. A family that would break an
/// OpenMetrics rule as typed (a name clash such as Go's gauge `x` next to counter `x_total`, a
/// histogram without `+Inf` bucket, a negative counter, ...) is written as `unknown`
/// families, one per sample name, keeping every sample's name, labels and value (each series'
/// samples are put together and in timestamp order). If even that is invalid (a series that
/// mixes samples with and without timestamps), [`EncodeError::NotExpressible`] is returned.
pub fn encode_families<W: Write>(
    w: &mut W,
    families: &[MetricFamily],
    format: Format,
) -> Result<(), EncodeError> {
    match format {
        Format::Text => {
            for index in text_order(families)? {
                if let Some(fam) = families.get(index) {
                    encode_text_family(w, fam)?;
                }
            }
            Ok(())
        }
        Format::OpenMetrics => {
            for rendered in plan_openmetrics(families)? {
                w.write_all(&rendered)?;
            }
            Ok(w.write_all(b"# EOF\n")?)
        }
    }
}

fn is_created(fam: &MetricFamily, s: &Sample) -> bool {
    matches!(
        fam.metric_type,
        MetricType::Counter | MetricType::Histogram | MetricType::Summary
    ) && s.name.strip_prefix(fam.name.as_str()) == Some("_created")
}

/// The suffixes a 0.0.4 parser files under a family of this type.
fn captured_suffixes(t: MetricType) -> &'static [&'static str] {
    match t {
        MetricType::Summary => &["_sum", "_count"],
        MetricType::Histogram | MetricType::GaugeHistogram => &["_sum", "_count", "_bucket"],
        _ => &[],
    }
}

/// The order in which text 0.0.4 can write `families` so that parsing the output gives the same
/// families back.
///
/// A 0.0.4 parser files a sample `x_sum`, `x_count` (or `x_bucket`) under a summary (or
/// histogram) `x` typed earlier, unless a family of exactly that name already exists. So a
/// family named like that (which the parser creates only before `x` got its TYPE) must be
/// written before `x`. If `x` itself holds samples of that name, no order keeps them apart and
/// [`EncodeError::NotExpressibleAsText`] is returned.
fn text_order(families: &[MetricFamily]) -> Result<Vec<usize>, EncodeError> {
    let captors: std::collections::HashMap<&str, usize> = families
        .iter()
        .enumerate()
        .filter(|(_, f)| !captured_suffixes(f.metric_type).is_empty())
        .map(|(i, f)| (f.name.as_str(), i))
        .collect();
    // captured[h] = the families a parser would file under family h, in input order.
    let mut captured: Vec<Vec<usize>> = vec![Vec::new(); families.len()];
    for (i, fam) in families.iter().enumerate() {
        for suffix in ["_sum", "_count", "_bucket"] {
            let Some(base) = fam.name.strip_suffix(suffix) else {
                continue;
            };
            let Some(&h) = captors.get(base) else {
                continue;
            };
            let Some(captor) = families.get(h) else {
                continue;
            };
            if h == i || !captured_suffixes(captor.metric_type).contains(&suffix) {
                continue;
            }
            if captor.samples.iter().any(|s| s.name == fam.name) {
                return Err(EncodeError::NotExpressibleAsText {
                    family: fam.name.clone(),
                    captor: captor.name.clone(),
                });
            }
            if let Some(list) = captured.get_mut(h) {
                list.push(i);
            }
        }
    }
    let mut order = Vec::with_capacity(families.len());
    let mut placed = vec![false; families.len()];
    for i in 0..families.len() {
        place(i, &captured, &mut placed, &mut order);
    }
    Ok(order)
}

/// Appends `i` to `order`, after the families it captures (names only get longer down that
/// chain, so it ends).
fn place(i: usize, captured: &[Vec<usize>], placed: &mut [bool], order: &mut Vec<usize>) {
    if placed.get(i).copied().unwrap_or(true) {
        return;
    }
    if let Some(slot) = placed.get_mut(i) {
        *slot = true;
    }
    for &c in captured.get(i).map(Vec::as_slice).unwrap_or(&[]) {
        place(c, captured, placed, order);
    }
    order.push(i);
}

fn encode_text_family<W: Write>(w: &mut W, fam: &MetricFamily) -> io::Result<()> {
    let word = match fam.metric_type {
        MetricType::Counter => "counter",
        MetricType::Gauge | MetricType::Info | MetricType::StateSet => "gauge",
        MetricType::Histogram | MetricType::GaugeHistogram => "histogram",
        MetricType::Summary => "summary",
        MetricType::Unknown => "untyped",
    };
    let total = format!("{}_total", fam.name);
    let info = format!("{}_info", fam.name);
    let kept = || fam.samples.iter().filter(|s| !is_created(fam, s));
    let name = match fam.metric_type {
        MetricType::Counter if kept().next().is_some() && kept().all(|s| s.name == total) => &total,
        MetricType::Info if kept().next().is_some() && kept().all(|s| s.name == info) => &info,
        _ => &fam.name,
    };
    if let Some(help) = &fam.help {
        write!(w, "# HELP {name} ")?;
        write_help(w, help, Format::Text)?;
        w.write_all(b"\n")?;
    }
    writeln!(w, "# TYPE {name} {word}")?;
    for s in kept() {
        w.write_all(s.name.as_bytes())?;
        write_labels(w, s.labels.iter().map(|(n, v)| (n.as_str(), v.as_str())))?;
        w.write_all(b" ")?;
        write_float(w, s.value)?;
        if let Some(ts) = s.timestamp {
            write!(w, " {}", ts.as_millis())?;
        }
        w.write_all(b"\n")?;
    }
    Ok(())
}

fn encode_om_family<W: Write>(w: &mut W, fam: &MetricFamily) -> io::Result<()> {
    let name = &fam.name;
    if let Some(help) = &fam.help {
        write!(w, "# HELP {name} ")?;
        write_help(w, help, Format::OpenMetrics)?;
        w.write_all(b"\n")?;
    }
    writeln!(w, "# TYPE {name} {}", fam.metric_type.as_openmetrics())?;
    if let Some(unit) = fam.unit.as_deref().filter(|u| !u.is_empty()) {
        writeln!(w, "# UNIT {name} {unit}")?;
    }
    for s in &fam.samples {
        w.write_all(s.name.as_bytes())?;
        write_labels(w, s.labels.iter().map(|(n, v)| (n.as_str(), v.as_str())))?;
        w.write_all(b" ")?;
        write_float(w, s.value)?;
        match s.timestamp {
            Some(Timestamp::Millis(ms)) => {
                w.write_all(b" ")?;
                write_millis_as_seconds(w, ms)?;
            }
            Some(Timestamp::Seconds(sec)) => {
                w.write_all(b" ")?;
                write_seconds(w, sec)?;
            }
            None => {}
        }
        if let Some(ex) = &s.exemplar {
            let labels = ex.labels.iter().map(|(n, v)| (n.as_str(), v.as_str()));
            write_exemplar(w, labels, ex.value, ex.timestamp)?;
        }
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// The OpenMetrics form of a family as typed, or `None` if its sample names don't fit the type.
fn typed_form(fam: &MetricFamily) -> Option<MetricFamily> {
    let mut out = fam.clone();
    if fam.metric_type == MetricType::Counter {
        let base = fam.name.strip_suffix("_total").unwrap_or(&fam.name);
        let ok = fam
            .samples
            .iter()
            .all(|s| matches!(s.name.strip_prefix(base), Some("_total") | Some("_created")));
        if !ok {
            return None;
        }
        out.name = base.to_owned();
    }
    let suffixes = out.metric_type.openmetrics_suffixes();
    let fits = out.samples.iter().all(|s| {
        s.name
            .strip_prefix(out.name.as_str())
            .is_some_and(|x| suffixes.contains(&x))
    });
    if let Some(unit) = &out.unit {
        let ok = out
            .name
            .strip_suffix(unit.as_str())
            .is_some_and(|p| p.ends_with('_'));
        if !ok {
            out.unit = None;
        }
    }
    fits.then_some(out)
}

/// Names an OpenMetrics family occupies (its name plus every suffix of its type).
fn occupied(fam: &MetricFamily) -> Vec<String> {
    let mut v: Vec<String> = fam
        .metric_type
        .openmetrics_suffixes()
        .iter()
        .map(|s| format!("{}{s}", fam.name))
        .collect();
    v.push(fam.name.clone());
    v.sort();
    v.dedup();
    v
}

/// Renders `fam` as OpenMetrics and checks that it is valid on its own; returns the bytes
/// (without `# EOF`).
fn render_valid(fam: &MetricFamily) -> Result<Vec<u8>, ParseError> {
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = encode_om_family(&mut buf, fam);
    let len = buf.len();
    buf.extend_from_slice(b"# EOF\n");
    parse_openmetrics(&buf)?;
    buf.truncate(len);
    Ok(buf)
}

/// Splits a family into `unknown` families, one per sample name, samples grouped by label set.
fn degrade(fam: &MetricFamily) -> Vec<MetricFamily> {
    let mut names: Vec<&str> = Vec::new();
    for s in &fam.samples {
        if !names.contains(&s.name.as_str()) {
            names.push(&s.name);
        }
    }
    if names.is_empty() {
        names.push(&fam.name);
    }
    names
        .into_iter()
        .map(|n| {
            let mut samples: Vec<Sample> = fam
                .samples
                .iter()
                .filter(|s| s.name == n)
                .cloned()
                .collect();
            for s in &mut samples {
                s.exemplar = None;
            }
            // Group each series and put its timestamps in order (stable: equal keys keep
            // input order).
            samples.sort_by(|a, b| {
                let ts = |s: &Sample| s.timestamp.map(|t| t.as_seconds());
                sorted_labels(a).cmp(&sorted_labels(b)).then_with(|| {
                    ts(a)
                        .partial_cmp(&ts(b))
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
            });
            MetricFamily {
                name: n.to_owned(),
                metric_type: MetricType::Unknown,
                help: fam.help.clone(),
                unit: None,
                samples,
            }
        })
        .collect()
}

fn sorted_labels(s: &Sample) -> Vec<(&str, &str)> {
    let mut v: Vec<(&str, &str)> = s
        .labels
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    v.sort();
    v
}

fn plan_openmetrics(families: &[MetricFamily]) -> Result<Vec<Vec<u8>>, EncodeError> {
    // Every name the input itself uses: a family may not claim one of another family's names.
    let mut used: HashSet<&str> = HashSet::new();
    for fam in families {
        used.insert(&fam.name);
        for s in &fam.samples {
            used.insert(&s.name);
        }
    }
    // Each planned family is rendered once: the bytes that passed validation are the output.
    let mut plan = Vec::new();
    let mut taken: HashSet<String> = HashSet::new();
    for fam in families {
        let own: HashSet<&str> = fam
            .samples
            .iter()
            .map(|s| s.name.as_str())
            .chain([fam.name.as_str()])
            .collect();
        let typed = typed_form(fam)
            .filter(|t| {
                occupied(t)
                    .iter()
                    .all(|n| own.contains(n.as_str()) || !used.contains(n.as_str()))
                    && occupied(t).iter().all(|n| !taken.contains(n))
            })
            .and_then(|t| render_valid(&t).ok().map(|bytes| (t, Some(bytes))));
        let forms = match typed {
            Some(t) => vec![t],
            None => degrade(fam).into_iter().map(|f| (f, None)).collect(),
        };
        for (f, rendered) in forms {
            for n in occupied(&f) {
                if !taken.insert(n.clone()) {
                    return Err(EncodeError::ClashingName(n));
                }
            }
            let bytes = match rendered {
                Some(bytes) => bytes,
                None => render_valid(&f).map_err(|reason| EncodeError::NotExpressible {
                    family: f.name.clone(),
                    reason,
                })?,
            };
            plan.push(bytes);
        }
    }
    Ok(plan)
}
