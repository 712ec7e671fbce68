//! `tsdb dump`: every sample of the selected series in the blocks and the head.
//!
//! The head is rebuilt from copies of `DIR/chunks_head`, `DIR/wal` and `DIR/wbl` in a temporary
//! directory (memory-mapped head chunks first, then the WAL, as an open does; out-of-order
//! chunks and the WBL become blocks of the copy), so the database directory is never written
//! to (kagari-tsdb has no read-only open).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use kagari_model::{Labels, MatchType, Matcher};
use kagari_promql::Expr;
use kagari_tsdb::block::open_blocks;
use kagari_tsdb::chunkenc::ValueType;
use kagari_tsdb::{Db, Options, Querier};

use super::format::{push_float, push_labels};
use super::ToolError;

/// Prints the samples in `[mint, maxt]` of the series matching any of `selectors`.
pub(super) fn run(dir: &Path, mint: i64, maxt: i64, selectors: &[String]) -> Result<(), ToolError> {
    let matcher_sets = parse_selectors(selectors)?;
    if !dir.is_dir() {
        return Err(ToolError::Usage(format!(
            "{}: not a directory",
            dir.display()
        )));
    }
    let mut blocks: Vec<_> = open_blocks(dir)?.into_iter().map(Arc::new).collect();
    // Keeps the temporary WAL copy alive while the querier reads the head.
    let (_tmp, _db, head) = match open_head(dir)? {
        Some((tmp, db)) => {
            // A Prometheus's out-of-order data (0x81 chunks in `chunks_head/`, `wbl/`) becomes
            // blocks of the temporary copy, as its own compaction would make them.
            blocks.extend(db.blocks());
            let head = Arc::clone(db.head());
            (Some(tmp), Some(db), Some(head))
        }
        None => (None, None, None),
    };
    blocks.sort_by(|a, b| {
        (a.meta().min_time, &a.meta().ulid).cmp(&(b.meta().min_time, &b.meta().ulid))
    });
    let querier = Querier::new(head, blocks, mint, maxt);

    let mut series = Vec::new();
    let mut seen: HashSet<Labels> = HashSet::new();
    for ms in &matcher_sets {
        for s in querier.select(ms)? {
            if seen.insert(s.labels().clone()) {
                series.push(s);
            }
        }
    }
    if matcher_sets.len() > 1 {
        series.sort_by(|a, b| a.labels().cmp(b.labels()));
    }

    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut prefix = String::new();
    let mut line = String::with_capacity(256);
    for s in &series {
        prefix.clear();
        push_labels(&mut prefix, s.labels());
        prefix.push(' ');
        let mut it = s.iter();
        while it.next() == ValueType::Float {
            let (t, v) = it.at();
            if t < mint || t > maxt {
                continue;
            }
            line.clear();
            line.push_str(&prefix);
            push_float(&mut line, v);
            line.push(' ');
            let _ = write!(line, "{t}");
            line.push('\n');
            out.write_all(line.as_bytes())
                .map_err(|e| ToolError::io("write", "stdout", e))?;
        }
        if let Some(e) = it.take_err() {
            return Err(e.into());
        }
    }
    out.flush().map_err(|e| ToolError::io("write", "stdout", e))
}

/// Parses each selector into its matchers; no selectors means all series.
fn parse_selectors(selectors: &[String]) -> Result<Vec<Vec<Matcher>>, ToolError> {
    if selectors.is_empty() {
        let all = Matcher::new(MatchType::Regex, "__name__", "(?s:.*)")
            .map_err(|e| ToolError::Usage(format!("matcher: {e}")))?;
        return Ok(vec![vec![all]]);
    }
    selectors
        .iter()
        .map(|sel| match kagari_promql::parse(sel) {
            Ok(Expr::VectorSelector(v)) => Ok(v.matchers),
            Ok(_) => Err(ToolError::Usage(format!(
                "--match {sel:?}: not a series selector"
            ))),
            Err(e) => Err(ToolError::Usage(format!("--match {sel:?}: {e}"))),
        })
        .collect()
}

/// Loads copies of `dir/chunks_head`, `dir/wal` and `dir/wbl` (if the WAL has any file) into a
/// database in a temporary directory; its out-of-order data is imported into blocks there.
fn open_head(dir: &Path) -> Result<Option<(tempfile::TempDir, Db)>, ToolError> {
    let wal = dir.join("wal");
    let has_files = match fs::read_dir(&wal) {
        Ok(mut rd) => rd.next().is_some(),
        Err(_) => false,
    };
    if !has_files {
        return Ok(None);
    }
    let tmp = tempfile::Builder::new()
        .prefix("kagari-tool-dump")
        .tempdir()
        .map_err(|e| ToolError::io("create temp dir", std::env::temp_dir(), e))?;
    copy_dir(&wal, &tmp.path().join("wal"))?;
    for sub in ["chunks_head", "wbl"] {
        let from = dir.join(sub);
        if from.is_dir() {
            copy_dir(&from, &tmp.path().join(sub))?;
        }
    }
    let db = Db::open(tmp.path(), Options::default())?;
    db.import_out_of_order()?;
    Ok(Some((tmp, db)))
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), ToolError> {
    fs::create_dir_all(to).map_err(|e| ToolError::io("create dir", to, e))?;
    for entry in fs::read_dir(from).map_err(|e| ToolError::io("read dir", from, e))? {
        let entry = entry.map_err(|e| ToolError::io("read dir", from, e))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            fs::copy(&src, &dst).map_err(|e| ToolError::io("copy", &src, e))?;
        }
    }
    Ok(())
}
