//! The seam between metrics and the exposition encoder: [`MetricWriter`], [`Collector`], [`Metric`].
//!
//! Metrics never format text themselves: they hand family headers and samples to a
//! [`MetricWriter`], which forwards them (with the registry's prefix and constant labels) to
//! `kagari_exposition::Encoder`. Nothing here allocates per sample.

use std::cell::RefCell;
use std::io;

use kagari_exposition::{Encoder, Exemplar, Format, MetricType, Value};

use crate::render::{escape_into, quick_value, Rendered};

/// Object-safe front of the exposition encoder, so collectors need not be generic over `W`.
pub(crate) trait Sink {
    fn family(
        &mut self,
        name: &str,
        metric_type: MetricType,
        help: &str,
        unit: Option<&str>,
    ) -> io::Result<()>;

    #[allow(clippy::too_many_arguments)]
    fn sample<'l>(
        &mut self,
        suffix: &str,
        labels: &mut dyn Iterator<Item = (&'l str, &'l str)>,
        extra: Option<(&str, f64)>,
        value: Value,
        timestamp_ms: Option<i64>,
        exemplar: Option<&Exemplar<'_>>,
    ) -> io::Result<()>;
}

impl<W: io::Write> Sink for Encoder<W> {
    fn family(
        &mut self,
        name: &str,
        metric_type: MetricType,
        help: &str,
        unit: Option<&str>,
    ) -> io::Result<()> {
        Encoder::family(self, name, metric_type, help, unit)
    }

    fn sample<'l>(
        &mut self,
        suffix: &str,
        labels: &mut dyn Iterator<Item = (&'l str, &'l str)>,
        extra: Option<(&str, f64)>,
        value: Value,
        timestamp_ms: Option<i64>,
        exemplar: Option<&Exemplar<'_>>,
    ) -> io::Result<()> {
        Encoder::sample(self, suffix, labels, extra, value, timestamp_ms, exemplar)
    }
}

/// The label names and values of one series inside a family (both empty for a plain metric).
#[derive(Debug, Clone, Copy)]
pub struct SeriesLabels<'a> {
    names: &'a [Box<str>],
    values: &'a [Box<str>],
    /// The pairs rendered once per series by its family (see `render::render_labels`).
    rendered: Option<&'a Rendered>,
}

impl<'a> SeriesLabels<'a> {
    /// No labels.
    pub const EMPTY: SeriesLabels<'static> = SeriesLabels {
        names: &[],
        values: &[],
        rendered: None,
    };

    /// Labels with an optional pre-rendered form.
    pub(crate) fn new(
        names: &'a [Box<str>],
        values: &'a [Box<str>],
        rendered: Option<&'a Rendered>,
    ) -> Self {
        SeriesLabels {
            names,
            values,
            rendered,
        }
    }

    /// The `(name, value)` pairs in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + Clone + 'a {
        self.names
            .iter()
            .zip(self.values.iter())
            .map(|(n, v)| (&**n, &**v))
    }
}

/// Writes families and samples of one registry entry to the encoder.
///
/// Handed to [`Collector::collect`] and [`Metric::encode_samples`]; it adds the registry's name
/// prefix to family names and the constant labels to every sample.
pub struct MetricWriter<'a> {
    sink: &'a mut dyn Sink,
    prefix: &'a str,
    /// The current family's full name.
    name_buf: &'a mut String,
    consts: &'a [(String, String)],
    format: Format,
    /// The buffer the sink writes into, for plain sample lines written directly.
    raw: Option<RawOut<'a>>,
    /// `consts` rendered as `n="v",` pairs, each followed by a comma.
    consts_rendered: &'a mut String,
    /// `name suffix {consts` of the last direct line, for `head_suffix`.
    head: &'a mut String,
    /// The suffix `head` was built for, if `head_valid`.
    head_suffix: &'a mut String,
    /// Whether `head` belongs to the current family (reset by [`Self::family`]).
    head_valid: bool,
    digits: itoa::Buffer,
}

impl std::fmt::Debug for RawOut<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawOut").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for MetricWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricWriter")
            .field("prefix", &self.prefix)
            .field("consts", &self.consts)
            .finish_non_exhaustive()
    }
}

/// The buffer a sink appends to and the writer it is emptied into once it holds
/// [`RawOut::FLUSH_AT`] bytes.
pub(crate) struct RawOut<'a> {
    pub(crate) buf: &'a RefCell<Vec<u8>>,
    pub(crate) writer: &'a mut dyn io::Write,
}

impl RawOut<'_> {
    /// Bytes collected before they are handed to the writer.
    pub(crate) const FLUSH_AT: usize = 64 * 1024;

    /// Hands the buffer to the writer if it is full enough.
    #[inline]
    fn maybe_flush(&mut self) -> io::Result<()> {
        let mut b = self.buf.borrow_mut();
        if b.len() >= Self::FLUSH_AT {
            self.writer.write_all(&b)?;
            b.clear();
        }
        Ok(())
    }
}

/// Scratch space of a [`MetricWriter`], reused across registry entries.
#[derive(Debug, Default)]
pub(crate) struct WriterBufs {
    pub(crate) name: String,
    pub(crate) consts: String,
    pub(crate) head: String,
    pub(crate) head_suffix: String,
}

impl<'a> MetricWriter<'a> {
    /// A writer over `sink`; `raw` is the buffer the sink appends to (if it is one), which
    /// plain sample lines are then appended to directly.
    pub(crate) fn new(
        sink: &'a mut dyn Sink,
        raw: Option<RawOut<'a>>,
        prefix: &'a str,
        bufs: &'a mut WriterBufs,
        consts: &'a [(String, String)],
        format: Format,
    ) -> Self {
        bufs.consts.clear();
        for (n, v) in consts {
            bufs.consts.push_str(n);
            bufs.consts.push_str("=\"");
            escape_into(&mut bufs.consts, v);
            bufs.consts.push_str("\",");
        }
        MetricWriter {
            sink,
            prefix,
            name_buf: &mut bufs.name,
            consts,
            format,
            raw,
            consts_rendered: &mut bufs.consts,
            head: &mut bufs.head,
            head_suffix: &mut bufs.head_suffix,
            head_valid: false,
            digits: itoa::Buffer::new(),
        }
    }

    /// Whether the output keeps exemplars (OpenMetrics); the text format drops them, so
    /// metrics can skip reading theirs.
    #[inline]
    pub(crate) fn keeps_exemplars(&self) -> bool {
        self.format == Format::OpenMetrics
    }

    /// The text format has no `_created` samples: skip them before any work.
    #[inline]
    fn skipped(&self, suffix: &str) -> bool {
        self.format == Format::Text && suffix == "_created"
    }

    /// Starts a family; `name` is prefixed with the registry prefix (if any) and, for a counter,
    /// must not end in `_total` (the encoder adds it).
    pub fn family(
        &mut self,
        name: &str,
        metric_type: MetricType,
        help: &str,
        unit: Option<&str>,
    ) -> io::Result<()> {
        self.head_valid = false;
        self.name_buf.clear();
        if !self.prefix.is_empty() {
            self.name_buf.push_str(self.prefix);
            self.name_buf.push('_');
        }
        self.name_buf.push_str(name);
        self.sink.family(self.name_buf, metric_type, help, unit)
    }

    /// Writes one sample of the current family (see `kagari_exposition::Encoder::sample`).
    pub fn sample(
        &mut self,
        suffix: &str,
        labels: &[(&str, &str)],
        extra: Option<(&str, f64)>,
        value: Value,
        timestamp_ms: Option<i64>,
        exemplar: Option<&Exemplar<'_>>,
    ) -> io::Result<()> {
        if self.skipped(suffix) {
            return Ok(());
        }
        let mut it = self
            .consts
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .chain(labels.iter().copied());
        self.sink
            .sample(suffix, &mut it, extra, value, timestamp_ms, exemplar)?;
        match &mut self.raw {
            Some(raw) => raw.maybe_flush(),
            None => Ok(()),
        }
    }

    /// Writes one sample for a family member identified by `labels`.
    pub fn series_sample(
        &mut self,
        suffix: &str,
        labels: SeriesLabels<'_>,
        extra: Option<(&str, f64)>,
        value: Value,
        exemplar: Option<&Exemplar<'_>>,
    ) -> io::Result<()> {
        if self.skipped(suffix) {
            return Ok(());
        }
        if let (Some(raw), Some(rendered)) = (&mut self.raw, labels.rendered) {
            let plain = extra.is_none() && (exemplar.is_none() || self.format == Format::Text);
            if let (true, Some(v)) = (plain, quick_value(value, &mut self.digits)) {
                // What the encoder writes for this sample, in three copies: the head
                // (`name suffix {consts`, built once per family and suffix), the labels and
                // the `} value` tail.
                if !self.head_valid || *self.head_suffix != suffix {
                    self.head.clear();
                    self.head.push_str(self.name_buf);
                    self.head.push_str(suffix);
                    self.head.push('{');
                    self.head.push_str(self.consts_rendered);
                    self.head_suffix.clear();
                    self.head_suffix.push_str(suffix);
                    self.head_valid = true;
                }
                let mut tail = [0u8; 24];
                let n = v.len() + 3;
                if let Some((brace, rest)) = tail
                    .get_mut(..n)
                    .and_then(|t| t.split_first_chunk_mut::<2>())
                {
                    *brace = *b"} ";
                    if let Some((newline, digits)) = rest.split_last_mut() {
                        digits.copy_from_slice(v.as_bytes());
                        *newline = b'\n';
                    }
                }
                let mut b = raw.buf.borrow_mut();
                b.reserve(self.head.len() + rendered.full().len() + n);
                b.extend_from_slice(self.head.as_bytes());
                b.extend_from_slice(rendered.full().as_bytes());
                b.extend_from_slice(tail.get(..n).unwrap_or_default());
                drop(b);
                return raw.maybe_flush();
            }
        }
        self.sink_series_sample(suffix, labels, extra, value, exemplar)?;
        match &mut self.raw {
            Some(raw) => raw.maybe_flush(),
            None => Ok(()),
        }
    }

    /// [`Self::series_sample`] through the exposition encoder.
    fn sink_series_sample(
        &mut self,
        suffix: &str,
        labels: SeriesLabels<'_>,
        extra: Option<(&str, f64)>,
        value: Value,
        exemplar: Option<&Exemplar<'_>>,
    ) -> io::Result<()> {
        let consts = self.consts.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        match labels.rendered {
            // The encoder writes a label name verbatim and escapes only the value, so the
            // pre-rendered pairs travel as the "name" of the last pair.
            Some(r) => {
                let last = labels.values.last().map_or("", |v| &**v);
                let mut it = consts.chain(std::iter::once((r.prefix(), last)));
                self.sink
                    .sample(suffix, &mut it, extra, value, None, exemplar)
            }
            None => {
                let mut it = consts.chain(labels.iter());
                self.sink
                    .sample(suffix, &mut it, extra, value, None, exemplar)
            }
        }
    }
}

/// The fixed description of one family a collector produces, used to validate registration.
#[derive(Debug, Clone, PartialEq)]
pub struct Desc {
    /// The family name (for counters without `_total`).
    pub name: String,
    /// The family type.
    pub metric_type: MetricType,
    /// The help text.
    pub help: String,
    /// Variable label names (constant labels excluded).
    pub label_names: Vec<String>,
}

/// A source of families produced at scrape time (e.g. reading `/proc`, or a cache's stats).
///
/// `collect` runs while the registry is being encoded (its entry list read-locked): it must
/// not register or unregister on the same registry.
///
/// ```
/// use kagari_client::{Collector, Desc, MetricWriter, MetricType, Registry, Value};
///
/// #[derive(Debug)]
/// struct Answer;
/// impl Collector for Answer {
///     fn describe(&self) -> Vec<Desc> {
///         vec![Desc { name: "answer".into(), metric_type: MetricType::Gauge,
///                     help: "The answer.".into(), label_names: vec![] }]
///     }
///     fn collect(&self, w: &mut MetricWriter<'_>) -> std::io::Result<()> {
///         w.family("answer", MetricType::Gauge, "The answer.", None)?;
///         w.sample("", &[], None, Value::Int(42), None, None)
///     }
/// }
/// let r = Registry::new();
/// r.register_collector(Answer).unwrap();
/// assert!(r.register_collector(Answer).is_err()); // same family twice
/// ```
pub trait Collector: Send + Sync + std::fmt::Debug + 'static {
    /// The families [`collect`](Collector::collect) will write; checked for name validity and
    /// clashes at registration. An empty list registers an unchecked collector.
    fn describe(&self) -> Vec<Desc> {
        Vec::new()
    }

    /// Writes the current families (header via [`MetricWriter::family`], then samples).
    fn collect(&self, w: &mut MetricWriter<'_>) -> io::Result<()>;
}

/// One family's worth of series that the registry names: a plain metric or a labelled family.
///
/// Implemented by every [`Series`] type (a metric without labels) and by
/// [`Family`](crate::Family). The registry writes the family header; this writes the samples.
pub trait Metric: Send + Sync + std::fmt::Debug + 'static {
    /// The family type.
    fn metric_type(&self) -> MetricType;
    /// Declared variable label names.
    fn label_names(&self) -> &[Box<str>] {
        &[]
    }
    /// A label name this type reserves for itself (`le`, `quantile`).
    fn reserved_label(&self) -> Option<&'static str> {
        None
    }
    /// Writes all samples of all series.
    fn encode_samples(&self, w: &mut MetricWriter<'_>) -> io::Result<()>;
}

/// A single series' state (counter, gauge, histogram, summary) that can live in a family.
pub trait Series: Clone + Send + Sync + std::fmt::Debug + 'static {
    /// The family type.
    const TYPE: MetricType;
    /// A label name this type reserves for itself (`le`, `quantile`).
    const RESERVED_LABEL: Option<&'static str> = None;
    /// Writes this series' samples with the given labels.
    fn encode_series(&self, w: &mut MetricWriter<'_>, labels: SeriesLabels<'_>) -> io::Result<()>;

    /// Reads this series' shared state (returning something derived from it) so that a
    /// following [`encode_series`](Series::encode_series) finds it in cache.
    ///
    /// Families call it on a batch of series before encoding the batch: the independent
    /// loads overlap their cache misses instead of taking them one after another. The default
    /// reads nothing.
    fn touch(&self) -> u64 {
        0
    }
}

impl<S: Series> Metric for S {
    fn metric_type(&self) -> MetricType {
        S::TYPE
    }
    fn reserved_label(&self) -> Option<&'static str> {
        S::RESERVED_LABEL
    }
    fn encode_samples(&self, w: &mut MetricWriter<'_>) -> io::Result<()> {
        self.encode_series(w, SeriesLabels::EMPTY)
    }
}
