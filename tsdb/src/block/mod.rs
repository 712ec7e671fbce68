//! Block directories: writing a complete block from series, and opening one to read it back.
//!
//! ```text
//! <ULID>/meta.json  index  tombstones  chunks/000001 ...
//! ```

mod meta;
mod reader;
mod ulid;
mod writer;

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

pub use meta::{BlockCompaction, BlockDesc, BlockMeta, BlockStats, META_FILE, META_VERSION};
pub use reader::{open_blocks, Block, BlockSeries, SampleIter, SeriesSet};
pub use ulid::Ulid;
pub use writer::BlockWriter;

use crate::error::{Error, Result};

/// Writes `path` via `<path>.tmp`: write, fsync, rename.
pub(crate) fn write_file_atomically(path: &Path, data: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let mut f = File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    f.write_all(data).map_err(|e| Error::io("write", &tmp, e))?;
    f.sync_all().map_err(|e| Error::io("fsync", &tmp, e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| Error::io("rename", &tmp, e))
}

/// Fsyncs a directory so that renames inside it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let f = File::open(dir).map_err(|e| Error::io("open", dir, e))?;
    f.sync_all().map_err(|e| Error::io("fsync", dir, e))
}
