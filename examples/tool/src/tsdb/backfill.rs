//! `tsdb create-blocks-from openmetrics`: reads an OpenMetrics file with timestamps into memory,
//! cuts it into blocks aligned to the block duration (2h, or 2h * 3^n up to
//! `--max-block-duration`) and writes the blocks in parallel.
//!
//! Series are found by their label text as written (borrowed from the input, no allocation per
//! sample); a new spelling is normalised to [`Labels`] once, so `{a="1",b="2"}` and
//! `{b="2",a="1"}` are one series.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use hashbrown::HashMap;
use indicatif::{ProgressBar, ProgressStyle};
use kagari_exposition::{Entry, OpenMetricsParser, Timestamp};
use kagari_model::Labels;
use kagari_tsdb::{BlockMeta, BlockWriter};

use super::list::print_blocks;
use super::ToolError;

/// Prometheus's default (smallest) block duration: 2h in ms.
const DEFAULT_BLOCK_DURATION: i64 = 2 * 3600 * 1000;

/// One series: its labels and samples in input order.
#[derive(Debug)]
struct SeriesData {
    labels: Labels,
    samples: Vec<(i64, f64)>,
}

/// Backfills `input` into blocks under `output`.
pub(super) fn run(
    input: &Path,
    output: &Path,
    max_block_duration: &str,
    human: bool,
    quiet: bool,
) -> Result<(), ToolError> {
    let max = kagari_promql::parse_duration(max_block_duration).map_err(|e| {
        ToolError::Usage(format!("--max-block-duration {max_block_duration:?}: {e}"))
    })?;
    let block_duration = compatible_block_duration(max);
    let data = std::fs::read(input).map_err(|e| ToolError::io("read", input, e))?;

    let progress = ProgressBar::new_spinner();
    progress.set_message(format!("reading {}", input.display()));
    let series = read_series(&data, input, &progress)?;
    drop(data);
    progress.finish_and_clear();
    std::fs::create_dir_all(output).map_err(|e| ToolError::io("create dir", output, e))?;

    let metas = write_blocks(&series, output, block_duration)?;
    if !quiet && !metas.is_empty() {
        let blocks: Vec<(PathBuf, BlockMeta)> = metas
            .into_iter()
            .map(|m| (output.join(m.ulid.to_string()), m))
            .collect();
        print_blocks(&blocks, human)?;
    }
    Ok(())
}

/// The largest of 2h * 3^n (n < 10) not above `max`, as promtool's `getCompatibleBlockDuration`.
fn compatible_block_duration(max: i64) -> i64 {
    let mut d = DEFAULT_BLOCK_DURATION;
    for _ in 1..10 {
        match d.checked_mul(3) {
            Some(next) if next <= max => d = next,
            _ => break,
        }
    }
    d
}

/// Parses the whole input into series with time-sorted, de-duplicated samples.
fn read_series(
    data: &[u8],
    file: &Path,
    progress: &ProgressBar,
) -> Result<Vec<SeriesData>, ToolError> {
    let parse_err = |line: usize, column: usize, reason: String| ToolError::Parse {
        file: file.to_path_buf(),
        line,
        column,
        reason,
    };
    let mut by_text: HashMap<(&str, &str), usize> = HashMap::new();
    let mut by_labels: HashMap<Labels, usize> = HashMap::new();
    let mut series: Vec<SeriesData> = Vec::new();
    let mut parser = OpenMetricsParser::new(data);
    let mut count = 0u64;
    loop {
        let entry = parser
            .next_entry()
            .map_err(|e| parse_err(e.line, e.column, e.reason.to_string()))?;
        let s = match entry {
            Entry::Sample(s) => s,
            Entry::Eof => break,
            _ => continue,
        };
        let t = match s.timestamp {
            Some(Timestamp::Seconds(secs)) => (secs * 1000.0) as i64,
            Some(Timestamp::Millis(ms)) => ms,
            None => {
                let series = if s.labels.is_empty() {
                    s.name.to_string()
                } else {
                    format!("{}{{{}}}", s.name, s.labels.raw())
                };
                return Err(parse_err(
                    parser.line(),
                    1,
                    format!("expected timestamp for series {series}"),
                ));
            }
        };
        let idx = match by_text.get(&(s.name, s.labels.raw())) {
            Some(&i) => i,
            None => {
                let pairs = std::iter::once(("__name__", std::borrow::Cow::Borrowed(s.name)))
                    .chain(s.labels.iter());
                let labels = Labels::from_pairs(pairs)
                    .map_err(|e| parse_err(parser.line(), 1, e.to_string()))?;
                let i = *by_labels.entry(labels.clone()).or_insert_with(|| {
                    series.push(SeriesData {
                        labels,
                        samples: Vec::new(),
                    });
                    series.len() - 1
                });
                by_text.insert((s.name, s.labels.raw()), i);
                i
            }
        };
        if let Some(sd) = series.get_mut(idx) {
            sd.samples.push((t, s.value));
        }
        count += 1;
        if count % (1 << 18) == 0 {
            progress.set_message(format!("read {count} samples, {} series", series.len()));
            progress.tick();
        }
    }
    for sd in &mut series {
        normalise(sd).map_err(|reason| ToolError::Input {
            file: file.to_path_buf(),
            reason,
        })?;
    }
    Ok(series)
}

/// Sorts samples by time; drops exact duplicates, rejects two values at one time.
fn normalise(sd: &mut SeriesData) -> Result<(), String> {
    if sd.samples.windows(2).all(|w| w[0].0 < w[1].0) {
        return Ok(());
    }
    sd.samples.sort_by_key(|s| s.0);
    let mut err = None;
    sd.samples.dedup_by(|b, a| {
        if a.0 != b.0 {
            return false;
        }
        if a.1.to_bits() != b.1.to_bits() && err.is_none() {
            err = Some(format!(
                "series {}: two values at timestamp {}",
                sd.labels, a.0
            ));
        }
        true
    });
    err.map_or(Ok(()), Err)
}

/// Writes one block per non-empty aligned window, on all cores.
fn write_blocks(
    series: &[SeriesData],
    output: &Path,
    block_duration: i64,
) -> Result<Vec<BlockMeta>, ToolError> {
    let mint = series
        .iter()
        .filter_map(|s| s.samples.first())
        .map(|s| s.0)
        .min();
    let maxt = series
        .iter()
        .filter_map(|s| s.samples.last())
        .map(|s| s.0)
        .max();
    let (Some(mint), Some(maxt)) = (mint, maxt) else {
        return Ok(Vec::new());
    };
    let first = mint.div_euclid(block_duration) * block_duration;
    let windows: Vec<i64> = (0..)
        .map(|i: i64| first.saturating_add(i.saturating_mul(block_duration)))
        .take_while(|&t| t <= maxt)
        .collect();
    let bar = ProgressBar::new(windows.len() as u64);
    if let Ok(style) = ProgressStyle::with_template("writing blocks {bar:40} {pos}/{len}") {
        bar.set_style(style);
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Result<BlockMeta, ToolError>>> = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(windows.len());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&start) = windows.get(i) else {
                    break;
                };
                let end = start.saturating_add(block_duration);
                if let Some(r) = write_window(series, output, start, end) {
                    if let Ok(mut res) = results.lock() {
                        res.push(r);
                    }
                }
                bar.inc(1);
            });
        }
    });
    bar.finish_and_clear();
    let results = results.into_inner().unwrap_or_default();
    let mut metas = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    metas.sort_by_key(|m| m.min_time);
    Ok(metas)
}

/// Writes the samples in `[start, end)` as one block; `None` when there are none.
fn write_window(
    series: &[SeriesData],
    output: &Path,
    start: i64,
    end: i64,
) -> Option<Result<BlockMeta, ToolError>> {
    let mut w = BlockWriter::new();
    let mut any = false;
    for s in series {
        let lo = s.samples.partition_point(|x| x.0 < start);
        let hi = s.samples.partition_point(|x| x.0 < end);
        let Some(part) = s.samples.get(lo..hi) else {
            continue;
        };
        if part.is_empty() {
            continue;
        }
        any = true;
        if let Err(e) = w.add_series(s.labels.clone(), part) {
            return Some(Err(e.into()));
        }
    }
    any.then(|| w.write(output).map_err(ToolError::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_durations_like_promtool() {
        let h = 3600 * 1000;
        assert_eq!(compatible_block_duration(h), 2 * h);
        assert_eq!(compatible_block_duration(2 * h), 2 * h);
        assert_eq!(compatible_block_duration(5 * h), 2 * h);
        assert_eq!(compatible_block_duration(6 * h), 6 * h);
        assert_eq!(compatible_block_duration(24 * h), 18 * h);
    }

    #[test]
    fn normalise_sorts_and_rejects_conflicts() {
        let labels = Labels::from_pairs([("__name__", "x")]).unwrap();
        let mut sd = SeriesData {
            labels: labels.clone(),
            samples: vec![(3, 1.0), (1, 2.0), (3, 1.0)],
        };
        normalise(&mut sd).unwrap();
        assert_eq!(sd.samples, vec![(1, 2.0), (3, 1.0)]);
        let mut bad = SeriesData {
            labels,
            samples: vec![(3, 1.0), (3, 2.0)],
        };
        assert!(normalise(&mut bad).is_err());
    }
}
