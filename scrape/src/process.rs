//! Turning one response body into appended samples: parse, merge target labels
//! (`honor_labels`), metric relabeling, limits, timestamps, and the series cache.

use kagari_exposition::{Entry, LabelSet, OpenMetricsParser, ParseError, SampleEntry, TextParser};
use kagari_model::{
    relabel_builder, Labels, LabelsBuilder, NameValidationScheme, RelabelConfig, METRIC_NAME,
};

use crate::appender::Appender;
use crate::cache::{Entry as CacheEntry, ScrapeCache};
use crate::config::ScrapeConfig;
use crate::error::ScrapeError;
use crate::http_client::BodyFormat;

/// Per-job settings for sample handling.
#[derive(Debug, Clone)]
pub(crate) struct SampleCfg {
    pub(crate) honor_labels: bool,
    pub(crate) honor_timestamps: bool,
    pub(crate) track_timestamps_staleness: bool,
    pub(crate) metric_relabel: Vec<RelabelConfig>,
    pub(crate) sample_limit: u64,
    pub(crate) label_limit: u64,
    pub(crate) label_name_length_limit: u64,
    pub(crate) label_value_length_limit: u64,
    pub(crate) validation: NameValidationScheme,
    /// Bumped whenever anything that affects sample labels changes.
    pub(crate) generation: u64,
}

impl SampleCfg {
    pub(crate) fn new(cfg: &ScrapeConfig, generation: u64) -> Self {
        SampleCfg {
            honor_labels: cfg.honor_labels,
            honor_timestamps: cfg.honor_timestamps(),
            track_timestamps_staleness: cfg.track_timestamps_staleness,
            metric_relabel: cfg.metric_relabel_configs.clone(),
            sample_limit: cfg.sample_limit,
            label_limit: cfg.label_limit,
            label_name_length_limit: cfg.label_name_length_limit,
            label_value_length_limit: cfg.label_value_length_limit,
            validation: cfg.name_validation(),
            generation,
        }
    }

    /// Whether two settings produce the same labels for the same input.
    pub(crate) fn same_labels(&self, o: &SampleCfg) -> bool {
        self.honor_labels == o.honor_labels
            && self.metric_relabel == o.metric_relabel
            && self.validation == o.validation
            && self.label_limit == o.label_limit
            && self.label_name_length_limit == o.label_name_length_limit
            && self.label_value_length_limit == o.label_value_length_limit
    }
}

/// Counts for the report series.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Stats {
    pub(crate) scraped: u64,
    pub(crate) post_relabel: u64,
    pub(crate) added: u64,
}

/// Reusable scratch space for one loop.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// The series key being looked up.
    pub(crate) key: Vec<u8>,
    /// The text fast path's one-line input (`a <value> [timestamp]\n`).
    pub(crate) tail: Vec<u8>,
}

/// Parses `body` and appends its samples. Stats are filled even when an error is returned
/// (they then count up to the error, or everything for `sample_limit`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn append_body(
    app: &mut dyn Appender,
    cache: &mut ScrapeCache,
    scratch: &mut Scratch,
    cfg: &SampleCfg,
    target_labels: &Labels,
    body: &[u8],
    format: BodyFormat,
    ts: i64,
    stats: &mut Stats,
) -> Result<(), ScrapeError> {
    let run = RunSetup {
        app,
        cache,
        cfg,
        target_labels,
        ts,
        stats,
    };
    run.drive(body, |run| match format {
        BodyFormat::Text => crate::text_lines::append_text(run, scratch, body),
        BodyFormat::OpenMetrics => append_entries(run, scratch, &mut OpenMetricsParser::new(body)),
    })
}

/// [`append_body`] for a text body through the generic loop (no line fast path): the
/// reference the text path is checked against.
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn append_body_generic(
    app: &mut dyn Appender,
    cache: &mut ScrapeCache,
    scratch: &mut Scratch,
    cfg: &SampleCfg,
    target_labels: &Labels,
    body: &[u8],
    ts: i64,
    stats: &mut Stats,
) -> Result<(), ScrapeError> {
    let run = RunSetup {
        app,
        cache,
        cfg,
        target_labels,
        ts,
        stats,
    };
    run.drive(body, |run| {
        append_entries(run, scratch, &mut TextParser::new(body))
    })
}

/// What one body's [`Run`] is made of.
struct RunSetup<'r> {
    app: &'r mut dyn Appender,
    cache: &'r mut ScrapeCache,
    cfg: &'r SampleCfg,
    target_labels: &'r Labels,
    ts: i64,
    stats: &'r mut Stats,
}

impl<'r> RunSetup<'r> {
    /// Runs `parse` over a non-empty `body` (a 200 with an empty body is a successful scrape
    /// with no samples), then fails the scrape if the sample limit was exceeded.
    fn drive(
        self,
        body: &[u8],
        parse: impl FnOnce(&mut Run<'r>) -> Result<(), ScrapeError>,
    ) -> Result<(), ScrapeError> {
        if body.is_empty() {
            return Ok(());
        }
        let mut run = Run {
            iter: self.cache.iter,
            prev_ok: self.cache.prev_ok,
            app: self.app,
            cache: self.cache,
            cfg: self.cfg,
            target: self.target_labels,
            ts: self.ts,
            stats: self.stats,
            limit_exceeded: false,
        };
        parse(&mut run)?;
        if run.limit_exceeded {
            return Err(ScrapeError::SampleLimit);
        }
        Ok(())
    }
}

/// A pull parser the generic loop can drive.
pub(crate) trait EntrySource<'a> {
    /// The next entry.
    fn next(&mut self) -> Result<Entry<'a>, ParseError>;
}

impl<'a> EntrySource<'a> for OpenMetricsParser<'a> {
    fn next(&mut self) -> Result<Entry<'a>, ParseError> {
        self.next_entry()
    }
}

impl<'a> EntrySource<'a> for TextParser<'a> {
    fn next(&mut self) -> Result<Entry<'a>, ParseError> {
        self.next_entry()
    }
}

/// The generic loop: every sample from the parser, looked up by position then by hash of
/// its key (`name 0xff raw-labels`).
pub(crate) fn append_entries<'a>(
    run: &mut Run<'_>,
    scratch: &mut Scratch,
    parser: &mut impl EntrySource<'a>,
) -> Result<(), ScrapeError> {
    let mut pos = 0usize;
    loop {
        let s = match parser.next()? {
            Entry::Eof => return Ok(()),
            Entry::Sample(s) => s,
            _ => continue,
        };
        series_key(&mut scratch.key, &s);
        let hinted = run.cache.hint(pos, &scratch.key);
        pos += 1;
        let explicit_ts = s.timestamp.map(|t| t.as_millis());
        if let Some(slot) = hinted {
            if run.add_cached(slot, explicit_ts, s.value)? {
                run.cache.keep();
                continue;
            }
        }
        let slot = run.add_parsed(hinted, &scratch.key, &s)?;
        run.cache.record(&scratch.key, slot);
    }
}

/// The cache key of a sample: `name 0xff raw-labels`.
pub(crate) fn series_key(key: &mut Vec<u8>, s: &SampleEntry<'_>) {
    key.clear();
    key.extend_from_slice(s.name.as_bytes());
    key.push(0xff);
    key.extend_from_slice(s.labels.raw().as_bytes());
}

/// One scrape's sample handling: the appender, the cache and the per-scrape state.
pub(crate) struct Run<'r> {
    app: &'r mut dyn Appender,
    pub(crate) cache: &'r mut ScrapeCache,
    cfg: &'r SampleCfg,
    target: &'r Labels,
    ts: i64,
    stats: &'r mut Stats,
    iter: u64,
    prev_ok: Option<u64>,
    limit_exceeded: bool,
}

impl Run<'_> {
    /// Appends a sample of the cached series in `slot` if its entry is current (computed
    /// with these settings); `Ok(false)` (nothing done) otherwise. `explicit_ts` is the
    /// exposed timestamp in ms, if any.
    #[inline]
    pub(crate) fn add_cached(
        &mut self,
        slot: u32,
        explicit_ts: Option<i64>,
        v: f64,
    ) -> Result<bool, ScrapeError> {
        let Some(entry) = self.cache.entry(slot) else {
            return Ok(false);
        };
        if entry.generation != self.cfg.generation {
            return Ok(false);
        }
        self.stats.scraped += 1;
        let ctx = (self.cfg, self.iter, self.prev_ok, self.ts);
        append_sample(
            entry,
            self.app,
            self.stats,
            &mut self.limit_exceeded,
            ctx,
            explicit_ts,
            v,
        )?;
        Ok(true)
    }

    /// Appends a parsed sample whose series is not in the cache (`slot` is `None`) or
    /// whose entry is outdated: computes its labels once. An error leaves no entry behind,
    /// so the series fails again next time. Returns the slot to record.
    pub(crate) fn add_parsed(
        &mut self,
        slot: Option<u32>,
        key: &[u8],
        s: &SampleEntry<'_>,
    ) -> Result<u32, ScrapeError> {
        self.stats.scraped += 1;
        let explicit_ts = s.timestamp.map(|t| t.as_millis());
        let slot = match slot.or_else(|| self.cache.lookup(key)) {
            Some(slot)
                if self
                    .cache
                    .entry(slot)
                    .is_some_and(|e| e.generation == self.cfg.generation) =>
            {
                self.add(slot, explicit_ts, s.value)?;
                return Ok(slot);
            }
            found => {
                let labels = sample_labels(s, self.target, self.cfg)?;
                let slot = match found {
                    Some(slot) => slot,
                    None => self.cache.insert(
                        key,
                        CacheEntry {
                            labels: None,
                            sref: None,
                            cur_iter: 0,
                            ok_iter: 0,
                            track: true,
                            generation: self.cfg.generation,
                        },
                    ),
                };
                let (prev_ok, ts) = (self.prev_ok, self.ts);
                let generation = self.cfg.generation;
                let Some(e) = self.cache.entry(slot) else {
                    return Ok(slot);
                };
                if e.labels != labels {
                    // Settings changed the series' labels: the old series ends here.
                    if let (Some(old), true) = (&e.labels, prev_ok == Some(e.ok_iter) && e.track) {
                        match self.app.append(e.sref, old, ts, kagari_model::STALE_NAN) {
                            Ok(_) => {}
                            Err(err) if err.is_sample_error() => {}
                            Err(err) => return Err(err.into()),
                        }
                    }
                    e.sref = None;
                }
                e.labels = labels;
                e.generation = generation;
                slot
            }
        };
        self.add(slot, explicit_ts, s.value)?;
        Ok(slot)
    }

    /// Appends one sample of a cached series (nothing if relabeling dropped it), applying
    /// the sample limit and dropping in-scrape duplicates.
    #[inline]
    fn add(&mut self, slot: u32, explicit_ts: Option<i64>, v: f64) -> Result<(), ScrapeError> {
        let ctx = (self.cfg, self.iter, self.prev_ok, self.ts);
        let Some(entry) = self.cache.entry(slot) else {
            return Ok(());
        };
        append_sample(
            entry,
            self.app,
            self.stats,
            &mut self.limit_exceeded,
            ctx,
            explicit_ts,
            v,
        )
    }
}

/// Appends one sample of a cached series (nothing if relabeling dropped it), applying the
/// sample limit and dropping in-scrape duplicates. `ctx` is the settings, the scrape
/// attempt, the last successful one and the scrape timestamp.
#[inline]
fn append_sample(
    entry: &mut CacheEntry,
    app: &mut dyn Appender,
    stats: &mut Stats,
    limit_exceeded: &mut bool,
    (cfg, iter, prev_ok, ts): (&SampleCfg, u64, Option<u64>, i64),
    explicit_ts: Option<i64>,
    v: f64,
) -> Result<(), ScrapeError> {
    let Some(labels) = &entry.labels else {
        // Dropped by relabeling: still seen, so the entry is kept rather than evicted and
        // relabeled again.
        entry.cur_iter = iter;
        return Ok(());
    };
    let explicit_ts = explicit_ts.filter(|_| cfg.honor_timestamps);
    stats.post_relabel += 1;
    if cfg.sample_limit > 0 && stats.post_relabel > cfg.sample_limit {
        *limit_exceeded = true;
    }
    if *limit_exceeded {
        return Ok(());
    }
    if entry.cur_iter == iter && explicit_ts.is_none() {
        // Duplicate series within one scrape: only this sample is dropped.
        return Ok(());
    }
    if prev_ok != Some(entry.ok_iter) && entry.cur_iter != iter {
        stats.added += 1;
    }
    entry.cur_iter = iter;
    entry.track = explicit_ts.is_none() || cfg.track_timestamps_staleness;
    match app.append(entry.sref, labels, explicit_ts.unwrap_or(ts), v) {
        Ok(r) => entry.sref = Some(r),
        Err(e) if e.is_sample_error() => {}
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Builds the stored labels of one exposed series; `Ok(None)` when relabeling drops it.
fn sample_labels(
    s: &SampleEntry<'_>,
    target: &Labels,
    cfg: &SampleCfg,
) -> Result<Option<Labels>, ScrapeError> {
    let mut b = LabelsBuilder::new();
    b.set(METRIC_NAME, s.name);
    for (n, v) in s.labels.iter() {
        b.set(n, &v);
    }
    merge_target_labels(&mut b, &s.labels, target, cfg.honor_labels);
    if !relabel_builder(&mut b, &cfg.metric_relabel) {
        return Ok(None);
    }
    let labels = b.build();
    check_labels(&labels, cfg)?;
    Ok(Some(labels))
}

/// `honor_labels` semantics (Prometheus `mutateSampleLabels`).
pub(crate) fn merge_target_labels(
    b: &mut LabelsBuilder,
    exposed: &LabelSet<'_>,
    target: &Labels,
    honor: bool,
) {
    if honor {
        for l in target.iter() {
            // An exposed label counts as present even with an empty value.
            if exposed.get(&l.name).is_none() {
                b.set(&l.name, &l.value);
            }
        }
        return;
    }
    let mut conflicts: Vec<(String, String)> = Vec::new();
    for l in target.iter() {
        if let Some(v) = b.get(&l.name) {
            conflicts.push((l.name.to_string(), v.to_string()));
        }
        b.set(&l.name, &l.value);
    }
    conflicts.sort_by_key(|(n, _)| n.len());
    for (name, value) in conflicts {
        let mut new_name = name;
        loop {
            new_name.insert_str(0, "exported_");
            if b.get(&new_name).is_none() {
                b.set(&new_name, &value);
                break;
            }
        }
    }
}

fn check_labels(labels: &Labels, cfg: &SampleCfg) -> Result<(), ScrapeError> {
    let Some(name) = labels.metric_name() else {
        return Err(ScrapeError::MissingMetricName);
    };
    if !cfg.validation.is_valid_metric_name(name) {
        return Err(ScrapeError::InvalidName(labels.to_string()));
    }
    if cfg.label_limit > 0 && labels.len() as u64 > cfg.label_limit {
        return Err(ScrapeError::LabelLimit {
            metric: labels.to_string(),
            count: labels.len(),
            limit: cfg.label_limit,
        });
    }
    for l in labels.iter() {
        if !cfg.validation.is_valid_label_name(&l.name) {
            return Err(ScrapeError::InvalidName(labels.to_string()));
        }
        let (nl, vl) = (cfg.label_name_length_limit, cfg.label_value_length_limit);
        if nl > 0 && l.name.len() as u64 > nl {
            return Err(ScrapeError::LabelNameLength {
                metric: labels.to_string(),
                name: l.name.to_string(),
                len: l.name.len(),
                limit: nl,
            });
        }
        if vl > 0 && l.value.len() as u64 > vl {
            return Err(ScrapeError::LabelValueLength {
                metric: labels.to_string(),
                name: l.name.to_string(),
                value: l.value.to_string(),
                len: l.value.len(),
                limit: vl,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(line: &str, honor: bool) -> String {
        let body = format!("{line}\n");
        let mut p = TextParser::new(body.as_bytes());
        let Ok(Entry::Sample(s)) = p.next_entry() else {
            panic!("no sample in {line}")
        };
        let target = Labels::from_pairs([("job", "node"), ("instance", "h1:9100")]).unwrap();
        let mut b = LabelsBuilder::new();
        b.set(METRIC_NAME, s.name);
        for (n, v) in s.labels.iter() {
            b.set(n, &v);
        }
        merge_target_labels(&mut b, &s.labels, &target, honor);
        b.build().to_string()
    }

    #[test]
    fn series_dropped_by_relabeling_stay_cached() {
        use crate::appender::{AppendError, SeriesRef};
        struct Sink;
        impl Appender for Sink {
            fn append(
                &mut self,
                _: Option<SeriesRef>,
                _: &Labels,
                _: i64,
                _: f64,
            ) -> Result<SeriesRef, AppendError> {
                Ok(SeriesRef(1))
            }
            fn commit(self: Box<Self>) -> Result<(), AppendError> {
                Ok(())
            }
            fn rollback(self: Box<Self>) -> Result<(), AppendError> {
                Ok(())
            }
        }
        let cfg = ScrapeConfig {
            job_name: "j".into(),
            metric_relabel_configs: serde_yaml_ng::from_str(
                "[{source_labels: [__name__], regex: drop_me, action: drop}]",
            )
            .unwrap(),
            ..Default::default()
        };
        let cfg = SampleCfg::new(&cfg, 1);
        let target = Labels::from_pairs([("job", "j")]).unwrap();
        let (mut cache, mut scratch) = (ScrapeCache::default(), Scratch::default());
        for (i, format) in [BodyFormat::Text, BodyFormat::OpenMetrics]
            .into_iter()
            .cycle()
            .take(3 * EVICT_SCRAPES)
            .enumerate()
        {
            let body = "drop_me 1\nkeep_me 2\n# EOF\n";
            let body = if format == BodyFormat::Text {
                &body[..20]
            } else {
                body
            };
            cache.begin();
            let mut stats = Stats::default();
            let ts = 1000 * i as i64;
            let r = append_body(
                &mut Sink,
                &mut cache,
                &mut scratch,
                &cfg,
                &target,
                body.as_bytes(),
                format,
                ts,
                &mut stats,
            );
            assert!(r.is_ok(), "{r:?}");
            assert_eq!((stats.scraped, stats.post_relabel), (2, 1));
            assert!(cache.finish_ok(&mut Sink, ts).is_ok());
        }
        assert_eq!(cache.reuse_of(b"drop_me\xff"), Some(0));
    }

    /// More scrapes than an unseen entry survives.
    const EVICT_SCRAPES: usize = 12;

    #[test]
    fn honor_labels_table_from_the_reference() {
        let cases = [
            (
                r#"m{a="1"} 1"#,
                r#"m{a="1", instance="h1:9100", job="node"}"#,
                r#"m{a="1", instance="h1:9100", job="node"}"#,
            ),
            (
                r#"m{job="batch"} 1"#,
                r#"m{exported_job="batch", instance="h1:9100", job="node"}"#,
                r#"m{instance="h1:9100", job="batch"}"#,
            ),
            (
                r#"m{job="b",exported_job="c"} 1"#,
                r#"m{exported_exported_job="b", exported_job="c", instance="h1:9100", job="node"}"#,
                r#"m{exported_job="c", instance="h1:9100", job="b"}"#,
            ),
            (
                r#"m{instance=""} 1"#,
                r#"m{instance="h1:9100", job="node"}"#,
                r#"m{job="node"}"#,
            ),
        ];
        for (line, off, on) in cases {
            assert_eq!(merged(line, false), off, "honor_labels=false: {line}");
            assert_eq!(merged(line, true), on, "honor_labels=true: {line}");
        }
    }
}

/// Steady-state scrapes must not allocate per sample: counted with a thread-local
/// allocation counter around the second scrape of the same body.
#[cfg(test)]
#[allow(unsafe_code)]
mod alloc_tests {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    use super::*;
    use crate::appender::{AppendError, SeriesRef};

    struct Counting;

    thread_local! {
        static ALLOCS: Cell<usize> = const { Cell::new(0) };
    }

    // SAFETY: forwards to the system allocator; only counts calls on this thread.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            ALLOCS.with(|c| c.set(c.get() + 1));
            // SAFETY: same contract as the caller's.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: same contract as the caller's.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            ALLOCS.with(|c| c.set(c.get() + 1));
            // SAFETY: same contract as the caller's.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    struct Sink(u64);
    impl Appender for Sink {
        fn append(
            &mut self,
            _: Option<SeriesRef>,
            _: &Labels,
            _: i64,
            v: f64,
        ) -> Result<SeriesRef, AppendError> {
            self.0 += 1;
            Ok(SeriesRef(v.to_bits()))
        }
        fn commit(self: Box<Self>) -> Result<(), AppendError> {
            Ok(())
        }
        fn rollback(self: Box<Self>) -> Result<(), AppendError> {
            Ok(())
        }
    }

    /// Allocations of (a) only parsing the body, (b) the second scrape of it.
    fn allocs_of_second_scrape(series: usize) -> (usize, usize, u64) {
        let mut body = String::from("# TYPE m counter\n");
        for i in 0..series {
            body.push_str(&format!("m{{a=\"{i}\",b=\"x\\\"y\"}} {i}\n"));
        }
        let cfg = ScrapeConfig {
            job_name: "j".into(),
            ..Default::default()
        };
        let cfg = SampleCfg::new(&cfg, 1);
        let target = Labels::from_pairs([("job", "j"), ("instance", "i:1")]).unwrap_or_default();
        let mut cache = ScrapeCache::default();
        let mut scratch = Scratch::default();
        let mut sink = Sink(0);
        let mut run = |ts| {
            cache.begin();
            let mut stats = Stats::default();
            let r = append_body(
                &mut sink,
                &mut cache,
                &mut scratch,
                &cfg,
                &target,
                body.as_bytes(),
                BodyFormat::Text,
                ts,
                &mut stats,
            );
            assert!(r.is_ok());
            assert!(cache.finish_ok(&mut sink, ts).is_ok());
            stats.added
        };
        assert_eq!(run(1000), series as u64);
        let before = ALLOCS.with(Cell::get);
        let added = run(2000);
        let scrape = ALLOCS.with(Cell::get) - before;
        let before = ALLOCS.with(Cell::get);
        let mut p = TextParser::new(body.as_bytes());
        while !matches!(p.next_entry(), Ok(Entry::Eof) | Err(_)) {}
        let parse = ALLOCS.with(Cell::get) - before;
        (parse, scrape, added)
    }

    #[test]
    fn steady_state_scrape_does_not_allocate_per_sample() {
        for series in [10, 2000] {
            let (parse, scrape, added) = allocs_of_second_scrape(series);
            assert_eq!(added, 0);
            // Whatever the parser itself allocates, the scrape path adds only a constant.
            assert!(
                scrape <= parse + 8,
                "{series} series: parsing {parse} allocations, scraping {scrape}"
            );
        }
    }
}
