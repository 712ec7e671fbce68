//! `tsdb list`: one row per block, as promtool prints it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use kagari_tsdb::block::{open_blocks, BlockMeta};

use super::format::{base2_bytes, go_duration, go_time_utc};
use super::ToolError;

/// Prints the block table of `dir`.
pub(super) fn run(dir: &Path, human: bool) -> Result<(), ToolError> {
    let blocks = open_blocks(dir)?;
    let metas: Vec<(PathBuf, BlockMeta)> = blocks
        .iter()
        .map(|b| (b.dir().to_path_buf(), b.meta().clone()))
        .collect();
    print_blocks(&metas, human)
}

/// Prints promtool's block table for blocks given by directory and meta.
pub(super) fn print_blocks(blocks: &[(PathBuf, BlockMeta)], human: bool) -> Result<(), ToolError> {
    let mut rows = vec![[
        "BLOCK ULID",
        "MIN TIME",
        "MAX TIME",
        "DURATION",
        "NUM SAMPLES",
        "NUM CHUNKS",
        "NUM SERIES",
        "SIZE",
    ]
    .map(String::from)];
    for (dir, m) in blocks {
        let size = dir_size(dir)?;
        let (mint, maxt, size) = if human {
            (
                go_time_utc(m.min_time),
                go_time_utc(m.max_time),
                base2_bytes(size),
            )
        } else {
            (
                m.min_time.to_string(),
                m.max_time.to_string(),
                size.to_string(),
            )
        };
        rows.push([
            m.ulid.to_string(),
            mint,
            maxt,
            go_duration(m.max_time.saturating_sub(m.min_time)),
            m.stats.num_samples.to_string(),
            m.stats.num_chunks.to_string(),
            m.stats.num_series.to_string(),
            size,
        ]);
    }
    let out = render_table(&rows);
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(|e| ToolError::io("write", "stdout", e))
}

/// Left-aligned columns, as promtool's `tabwriter.NewWriter(out, 13, 0, 2, ' ', 0)`: each column
/// is its widest cell plus 2, at least 13; the last column is not padded.
fn render_table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count() + 2).max(13);
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (w, cell) in widths.iter().zip(row) {
            line.push_str(cell);
            line.extend(std::iter::repeat_n(
                ' ',
                w.saturating_sub(cell.chars().count()),
            ));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Total size of the files of a block directory (meta.json, index, tombstones, chunks/*).
pub(super) fn dir_size(dir: &Path) -> Result<u64, ToolError> {
    let mut total = 0;
    for entry in fs::read_dir(dir).map_err(|e| ToolError::io("read dir", dir, e))? {
        let entry = entry.map_err(|e| ToolError::io("read dir", dir, e))?;
        let path = entry.path();
        let md = entry
            .metadata()
            .map_err(|e| ToolError::io("stat", &path, e))?;
        total += if md.is_dir() {
            dir_size(&path)?
        } else {
            md.len()
        };
    }
    Ok(total)
}
