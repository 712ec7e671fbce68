//! `tsdb analyze`: cardinality and churn statistics of one block, and with `--extended` the
//! chunk fullness histogram, as promtool 2.42 prints them.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use kagari_tsdb::block::{open_blocks, Block};

use super::format::go_duration;
use super::ToolError;

/// Prints the statistics of block `block_id` (default: the last block by time) of `dir`.
pub(super) fn run(
    dir: &Path,
    block_id: Option<&str>,
    limit: usize,
    extended: bool,
) -> Result<(), ToolError> {
    let blocks = open_blocks(dir)?;
    let block = match block_id {
        Some(id) => blocks
            .iter()
            .find(|b| b.meta().ulid.to_string() == id)
            .ok_or_else(|| {
                ToolError::Usage(format!("block {id} not found in {}", dir.display()))
            })?,
        None => blocks
            .last()
            .ok_or_else(|| ToolError::Usage(format!("no blocks found in {}", dir.display())))?,
    };
    let mut out = analyze(block, limit)?;
    if extended {
        compaction(block, &mut out)?;
    }
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(|e| ToolError::io("write", "stdout", e))
}

/// The report text for one block.
fn analyze(block: &Block, limit: usize) -> Result<String, ToolError> {
    let meta = block.meta();
    let ir = block.index();
    let range = meta.max_time.saturating_sub(meta.min_time);
    let mut out = String::new();
    let _ = writeln!(out, "Block ID: {}", meta.ulid);
    let _ = writeln!(out, "Duration: {}", go_duration(range));
    let _ = writeln!(out, "Series: {}", meta.stats.num_series);
    let names = ir.label_names();
    let _ = writeln!(out, "Label names: {}", names.len());

    // Per label name / pair: series count and the block time not covered by each series.
    let mut names_uncovered: HashMap<String, u64> = HashMap::new();
    let mut pairs_uncovered: HashMap<String, u64> = HashMap::new();
    let mut pairs_count: HashMap<String, u64> = HashMap::new();
    let mut entries = 0u64;
    let mut chunks = Vec::new();
    let mut key = String::new();
    for r in ir.all_postings()? {
        let labels = ir.series(r, &mut chunks)?;
        let covered = match (chunks.first(), chunks.last()) {
            (Some(f), Some(l)) => l.max_time.saturating_sub(f.min_time),
            _ => 0,
        };
        let uncovered = range.saturating_sub(covered).max(0) as u64;
        for l in labels.iter() {
            key.clear();
            let _ = write!(key, "{}={}", l.name, l.value);
            *names_uncovered.entry(l.name.to_string()).or_default() += uncovered;
            *pairs_uncovered.entry(key.clone()).or_default() += uncovered;
            *pairs_count.entry(key.clone()).or_default() += 1;
            entries += 1;
        }
    }
    let _ = writeln!(
        out,
        "Postings (unique label pairs): {}",
        pairs_uncovered.len()
    );
    let _ = writeln!(out, "Postings entries (total label pairs): {entries}");

    let per_range = |m: u64| {
        if range > 0 {
            (m as f64 / range as f64) as u64
        } else {
            0
        }
    };
    let section = |out: &mut String, title: &str, mut rows: Vec<(u64, String)>| {
        rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let _ = writeln!(out, "\n{title}:");
        for (m, k) in rows.into_iter().take(limit) {
            let _ = writeln!(out, "{m} {k}");
        }
    };
    section(
        &mut out,
        "Label pairs most involved in churning",
        pairs_uncovered
            .into_iter()
            .map(|(k, m)| (per_range(m), k))
            .collect(),
    );
    section(
        &mut out,
        "Label names most involved in churning",
        names_uncovered
            .into_iter()
            .map(|(k, m)| (per_range(m), k))
            .collect(),
    );
    section(
        &mut out,
        "Most common label pairs",
        pairs_count.into_iter().map(|(k, m)| (m, k)).collect(),
    );
    let mut lengths = Vec::with_capacity(names.len());
    let mut cardinality = Vec::with_capacity(names.len());
    for n in &names {
        let values = ir.label_values(n);
        let total: usize = values.iter().map(|v| v.len()).sum();
        lengths.push((total as u64, n.to_string()));
        cardinality.push((values.len() as u64, n.to_string()));
    }
    section(
        &mut out,
        "Label names with highest cumulative label value length",
        lengths,
    );
    section(&mut out, "Highest cardinality labels", cardinality);
    let mut metrics = Vec::new();
    for v in ir.label_values("__name__") {
        metrics.push((ir.postings("__name__", v)?.len() as u64, v.to_string()));
    }
    section(&mut out, "Highest cardinality metric names", metrics);
    Ok(out)
}

/// Appends promtool's "Compaction analysis": a histogram of chunk fullness in 10% buckets of
/// 120 samples, one `#` per percent of the chunks.
fn compaction(block: &Block, out: &mut String) -> Result<(), ToolError> {
    const MAX_SAMPLES: u64 = 120;
    let ir = block.index();
    let mut histogram = [0u64; 10];
    let mut total = 0u64;
    let mut chunks = Vec::new();
    for r in ir.all_postings()? {
        ir.series(r, &mut chunks)?;
        for c in &chunks {
            let (_, data) = block.chunks().chunk(c.chunk_ref)?;
            // Every chunk encoding starts with its big-endian 16-bit sample count.
            let n = match data {
                [a, b, ..] => u64::from(u16::from_be_bytes([*a, *b])),
                _ => 0,
            };
            let bucket = (10 * n.min(MAX_SAMPLES))
                .div_ceil(MAX_SAMPLES)
                .saturating_sub(1);
            if let Some(h) = histogram.get_mut(bucket as usize) {
                *h += 1;
            }
            total += 1;
        }
    }
    let _ = writeln!(out, "\nCompaction analysis:");
    let _ = writeln!(
        out,
        "Fullness: Amount of samples in chunks (100% is 120 samples)"
    );
    for (i, count) in histogram.iter().enumerate() {
        let pct = (100 * count).checked_div(total).unwrap_or(0);
        let _ = write!(out, "{:7}%: ", (i + 1) * 10);
        out.extend(std::iter::repeat_n('#', pct as usize));
        out.push('\n');
    }
    Ok(())
}
