//! [`Registry`]: named, validated registration of metrics and collectors, and encoding.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::sync::{Arc, OnceLock};

use kagari_exposition::{Encoder, Format, MetricType};
use parking_lot::RwLock;

use crate::collector::{Collector, Desc, Metric, MetricWriter, RawOut, WriterBufs};
use crate::render::SharedBuf;
use crate::{Error, Family, Series};

/// Name, help and naming options of one registered family (Go's `Opts`).
///
/// The full name is `namespace_subsystem_name[_unit]`; a counter's trailing `_total` is
/// dropped (the encoder adds it back), as client_python does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Opts {
    name: String,
    help: String,
    namespace: String,
    subsystem: String,
    unit: Option<String>,
    const_labels: Vec<(String, String)>,
}

impl Opts {
    /// Options with a name and help text.
    pub fn new(name: impl Into<String>, help: impl Into<String>) -> Self {
        Opts {
            name: name.into(),
            help: help.into(),
            ..Opts::default()
        }
    }

    /// Sets the namespace (first name component).
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.namespace = ns.into();
        self
    }

    /// Sets the subsystem (second name component).
    pub fn subsystem(mut self, s: impl Into<String>) -> Self {
        self.subsystem = s.into();
        self
    }

    /// Sets the unit (OpenMetrics `# UNIT`); appended to the name unless already its suffix.
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = Some(unit.into());
        self
    }

    /// Adds a constant label to every sample of this family.
    pub fn const_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.const_labels.push((name.into(), value.into()));
        self
    }

    fn full_name(&self, prefix: &str, metric_type: MetricType) -> String {
        let mut name = String::new();
        for part in [prefix, &self.namespace, &self.subsystem, &self.name] {
            if !part.is_empty() {
                if !name.is_empty() {
                    name.push('_');
                }
                name.push_str(part);
            }
        }
        if metric_type == MetricType::Counter {
            if let Some(stripped) = name.strip_suffix("_total") {
                name.truncate(stripped.len());
            }
        }
        if let Some(unit) = self.unit.as_deref().filter(|u| !u.is_empty()) {
            let suffixed = name.len() > unit.len()
                && name.ends_with(unit)
                && name.as_bytes().get(name.len() - unit.len() - 1) == Some(&b'_');
            if !suffixed {
                name.push('_');
                name.push_str(unit);
            }
        }
        name
    }
}

impl<N: Into<String>, H: Into<String>> From<(N, H)> for Opts {
    fn from((name, help): (N, H)) -> Self {
        Opts::new(name, help)
    }
}

#[derive(Debug)]
enum Entry {
    Metric {
        name: String,
        help: String,
        unit: Option<String>,
        consts: Vec<(String, String)>,
        metric: Box<dyn Metric>,
    },
    Collector {
        descs: Vec<String>,
        collector: Box<dyn Collector>,
    },
}

#[derive(Debug, Default)]
struct State {
    entries: Vec<Entry>,
    /// Every family name and every sample name it produces → the owning family's descriptor.
    names: HashMap<String, Desc>,
}

#[derive(Debug, Default)]
struct Inner {
    prefix: String,
    const_labels: Vec<(String, String)>,
    state: RwLock<State>,
}

/// A set of metrics and collectors that is encoded together (one `/metrics` page).
///
/// Cloning gives another handle to the same registry. There is no mandatory global: create
/// one per component, or use [`default_registry`].
///
/// ```
/// use kagari_client::{Format, Opts, Registry};
/// let r = Registry::builder().prefix("app").const_label("env", "test").build().unwrap();
/// let c: kagari_client::IntCounter = r.create(Opts::new("jobs_total", "Jobs run.")).unwrap();
/// c.inc();
/// let text = r.encode_to_string(Format::Text).unwrap();
/// assert!(text.contains("app_jobs_total{env=\"test\"} 1"));
/// assert!(r.create::<kagari_client::Gauge>(("jobs_total", "Clash.").into()).is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Registry(Arc<Inner>);

/// Builds a [`Registry`] with a name prefix and constant labels.
#[derive(Debug, Default)]
pub struct RegistryBuilder {
    prefix: String,
    const_labels: Vec<(String, String)>,
}

impl RegistryBuilder {
    /// Prefixes every family name with `prefix_`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Adds a constant label to every sample of every family.
    pub fn const_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.const_labels.push((name.into(), value.into()));
        self
    }

    /// Validates the prefix and labels and builds the registry.
    pub fn build(self) -> Result<Registry, Error> {
        if !self.prefix.is_empty() && !kagari_model::is_valid_metric_name(&self.prefix) {
            return Err(Error::InvalidMetricName { name: self.prefix });
        }
        check_label_names("", self.const_labels.iter().map(|(n, _)| n.as_str()), None)?;
        Ok(Registry(Arc::new(Inner {
            prefix: self.prefix,
            const_labels: self.const_labels,
            state: RwLock::default(),
        })))
    }
}

fn check_label_names<'a>(
    metric: &str,
    names: impl Iterator<Item = &'a str>,
    reserved: Option<&'static str>,
) -> Result<(), Error> {
    let mut seen: Vec<&str> = Vec::new();
    for n in names {
        let bad = |reason| Error::InvalidLabelName {
            metric: metric.to_owned(),
            label: n.to_owned(),
            reason,
        };
        if !kagari_model::is_valid_label_name(n) {
            return Err(bad("does not match [a-zA-Z_][a-zA-Z0-9_]*"));
        }
        if n.starts_with("__") {
            return Err(bad("names starting with __ are reserved"));
        }
        if Some(n) == reserved {
            return Err(bad("reserved by this metric type"));
        }
        if seen.contains(&n) {
            return Err(Error::DuplicateLabelName {
                metric: metric.to_owned(),
                label: n.to_owned(),
            });
        }
        seen.push(n);
    }
    Ok(())
}

/// The sample names a family of this type produces (the family name first).
fn sample_names(name: &str, metric_type: MetricType) -> Vec<String> {
    let suffixes: &[&str] = match metric_type {
        MetricType::Counter => &["", "_total", "_created"],
        MetricType::Histogram => &["", "_bucket", "_count", "_sum", "_created"],
        MetricType::GaugeHistogram => &["", "_bucket", "_gcount", "_gsum"],
        MetricType::Summary => &["", "_count", "_sum", "_created"],
        MetricType::Info => &["", "_info"],
        _ => &[""],
    };
    suffixes.iter().map(|s| format!("{name}{s}")).collect()
}

impl Registry {
    /// An empty registry without prefix or constant labels.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Starts building a registry with a prefix and/or constant labels.
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::default()
    }

    /// Checks `desc` and reserves its names; `desc.label_names` must include constant labels.
    fn reserve(state: &mut State, desc: &Desc) -> Result<(), Error> {
        if !kagari_model::is_valid_metric_name(&desc.name) {
            return Err(Error::InvalidMetricName {
                name: desc.name.clone(),
            });
        }
        if let Some(existing) = state.names.get(&desc.name) {
            if existing.name == desc.name {
                return Err(if existing == desc {
                    Error::AlreadyRegistered {
                        name: desc.name.clone(),
                    }
                } else {
                    Error::InconsistentRegistration {
                        name: desc.name.clone(),
                        existing: existing.name.clone(),
                        reason: "same name with a different type, help or label names",
                    }
                });
            }
        }
        let names = sample_names(&desc.name, desc.metric_type);
        for n in &names {
            if let Some(existing) = state.names.get(n) {
                return Err(Error::InconsistentRegistration {
                    name: desc.name.clone(),
                    existing: existing.name.clone(),
                    reason: "sample names collide",
                });
            }
        }
        for n in names {
            state.names.insert(n, desc.clone());
        }
        Ok(())
    }

    /// Registers `metric` (a plain metric or a [`Family`]) under `opts`; keep your own clone to
    /// update it. Fails on invalid names or a clash with an already registered family.
    pub fn register<M: Metric>(&self, opts: impl Into<Opts>, metric: M) -> Result<(), Error> {
        let opts = opts.into();
        let metric_type = metric.metric_type();
        let name = opts.full_name(&self.0.prefix, metric_type);
        let mut consts = self.0.const_labels.clone();
        consts.extend(opts.const_labels.iter().cloned());
        let all_labels = || {
            consts
                .iter()
                .map(|(n, _)| n.as_str())
                .chain(metric.label_names().iter().map(|n| &**n))
        };
        check_label_names(&name, all_labels(), metric.reserved_label())?;
        let desc = Desc {
            name: name.clone(),
            metric_type,
            help: opts.help.clone(),
            label_names: all_labels().map(str::to_owned).collect(),
        };
        let mut state = self.0.state.write();
        Self::reserve(&mut state, &desc)?;
        state.entries.push(Entry::Metric {
            name,
            help: opts.help,
            unit: opts.unit,
            consts,
            metric: Box::new(metric),
        });
        Ok(())
    }

    /// Creates a metric with its default settings and registers it (e.g. `Counter`,
    /// `IntGauge`, `Histogram` with default buckets, `Summary` without objectives).
    pub fn create<M: Series + Default>(&self, opts: Opts) -> Result<M, Error> {
        let m = M::default();
        self.register(opts, m.clone())?;
        Ok(m)
    }

    /// Creates a labelled family with default series settings and registers it.
    pub fn create_family<M: Series + Default>(
        &self,
        opts: Opts,
        label_names: &[&str],
    ) -> Result<Family<M>, Error> {
        let f = Family::<M>::new(label_names)?;
        self.register(opts, f.clone())?;
        Ok(f)
    }

    /// Registers a custom collector; its [`describe`](Collector::describe)d families are
    /// validated and reserved like those of plain metrics.
    pub fn register_collector(&self, collector: impl Collector) -> Result<(), Error> {
        let mut descs = collector.describe();
        let mut state = self.0.state.write();
        let mut reserved: Vec<String> = Vec::new();
        for d in &mut descs {
            if !self.0.prefix.is_empty() {
                d.name = format!("{}_{}", self.0.prefix, d.name);
            }
            let consts = self.0.const_labels.iter().map(|(n, _)| n.as_str());
            let result = check_label_names(
                &d.name,
                consts.chain(d.label_names.iter().map(String::as_str)),
                None,
            )
            .and_then(|()| Self::reserve(&mut state, d));
            if let Err(e) = result {
                for name in reserved {
                    Self::release(&mut state, &name);
                }
                return Err(e);
            }
            reserved.push(d.name.clone());
        }
        state.entries.push(Entry::Collector {
            descs: reserved,
            collector: Box::new(collector),
        });
        Ok(())
    }

    fn release(state: &mut State, family: &str) {
        state.names.retain(|_, d| d.name != family);
    }

    /// Removes the plain metric or family registered under this full name (or the collector
    /// that described it); returns whether something was removed.
    pub fn unregister(&self, name: &str) -> bool {
        let mut state = self.0.state.write();
        let before = state.entries.len();
        let mut released = Vec::new();
        state.entries.retain(|e| match e {
            Entry::Metric { name: n, .. } if n == name => {
                released.push(n.clone());
                false
            }
            Entry::Collector { descs, .. } if descs.iter().any(|d| d == name) => {
                released.extend(descs.iter().cloned());
                false
            }
            _ => true,
        });
        for n in released {
            Self::release(&mut state, &n);
        }
        state.entries.len() != before
    }

    /// Writes every family in registration order.
    pub fn encode<W: io::Write>(&self, writer: &mut W, format: Format) -> Result<(), Error> {
        let io_err = |source| Error::Io {
            context: "encoding metrics",
            source,
        };
        // The encoder and the writers' direct path append to one buffer, handed to `writer`
        // whenever it passes `RawOut::FLUSH_AT` and at the end.
        let buf = RefCell::new(Vec::with_capacity(RawOut::FLUSH_AT * 2));
        let writer: &mut dyn io::Write = writer;
        let mut enc = Encoder::new(SharedBuf(&buf), format);
        let state = self.0.state.read();
        let mut bufs = WriterBufs::default();
        for entry in &state.entries {
            match entry {
                Entry::Metric {
                    name,
                    help,
                    unit,
                    consts,
                    metric,
                } => {
                    let raw = RawOut {
                        buf: &buf,
                        writer: &mut *writer,
                    };
                    let mut w =
                        MetricWriter::new(&mut enc, Some(raw), "", &mut bufs, consts, format);
                    w.family(name, metric.metric_type(), help, unit.as_deref())
                        .map_err(io_err)?;
                    metric.encode_samples(&mut w).map_err(io_err)?;
                }
                Entry::Collector { collector, .. } => {
                    let raw = RawOut {
                        buf: &buf,
                        writer: &mut *writer,
                    };
                    let mut w = MetricWriter::new(
                        &mut enc,
                        Some(raw),
                        &self.0.prefix,
                        &mut bufs,
                        &self.0.const_labels,
                        format,
                    );
                    collector.collect(&mut w).map_err(io_err)?;
                }
            }
        }
        drop(state);
        enc.finish().map_err(io_err)?;
        writer.write_all(&buf.borrow()).map_err(io_err)?;
        Ok(())
    }

    /// Encodes into a new string.
    pub fn encode_to_string(&self, format: Format) -> Result<String, Error> {
        let mut buf = Vec::with_capacity(4096);
        self.encode(&mut buf, format)?;
        String::from_utf8(buf).map_err(|e| Error::Io {
            context: "encoding metrics",
            source: io::Error::new(io::ErrorKind::InvalidData, e),
        })
    }
}

/// The process-wide default registry, created on first use (with the process collector on
/// Linux when the `process` feature is on).
pub fn default_registry() -> &'static Registry {
    static DEFAULT: OnceLock<Registry> = OnceLock::new();
    DEFAULT.get_or_init(|| {
        let r = Registry::new();
        #[cfg(all(feature = "process", target_os = "linux"))]
        {
            // A fresh registry has no names that could clash with process_*.
            let _ = r.register_collector(crate::ProcessCollector::new());
        }
        r
    })
}
