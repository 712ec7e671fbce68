//! Segment files: naming, listing, contiguity checks and deletion.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The file name of segment `n`: eight decimal digits, zero-padded.
pub fn segment_name(n: u32) -> String {
    format!("{n:08}")
}

/// The path of segment `n` in `dir`.
pub fn segment_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(segment_name(n))
}

/// Parses a segment file name; only all-digit names count (other files are ignored).
pub(crate) fn parse_segment_name(name: &str) -> Option<u32> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// Lists the segment numbers in `dir`, ascending, and checks that they are contiguous.
///
/// Non-numeric entries (checkpoints, `series_state.json`, ...) are ignored. A missing
/// directory yields an error; an empty one an empty list.
pub fn segments(dir: &Path) -> Result<Vec<u32>> {
    let rd = fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("read dir", dir, e))?;
        let name = entry.file_name();
        let Some(n) = name.to_str().and_then(parse_segment_name) else {
            continue;
        };
        let is_file = entry
            .file_type()
            .map_err(|e| Error::io("stat", entry.path(), e))?
            .is_file();
        if is_file {
            out.push(n);
        }
    }
    out.sort_unstable();
    for w in out.windows(2) {
        if let [a, b] = w {
            if b.checked_sub(*a) != Some(1) {
                return Err(Error::WalSegmentGap {
                    dir: dir.to_path_buf(),
                    before: *a,
                    after: *b,
                });
            }
        }
    }
    Ok(out)
}

/// A range of segments to read: `first..=last` in `dir`, each bound optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRange {
    /// The directory holding the segments.
    pub dir: PathBuf,
    /// First segment to read; `None` = the oldest present.
    pub first: Option<u32>,
    /// Last segment to read; `None` = the newest present.
    pub last: Option<u32>,
}

impl SegmentRange {
    /// Every segment in `dir`.
    pub fn all(dir: impl Into<PathBuf>) -> Self {
        SegmentRange {
            dir: dir.into(),
            first: None,
            last: None,
        }
    }

    /// Segments `first..=last` of `dir`.
    pub fn new(dir: impl Into<PathBuf>, first: Option<u32>, last: Option<u32>) -> Self {
        SegmentRange {
            dir: dir.into(),
            first,
            last,
        }
    }

    /// The existing segment numbers inside the range.
    pub(crate) fn resolve(&self) -> Result<Vec<u32>> {
        let all = segments(&self.dir)?;
        Ok(all
            .into_iter()
            .filter(|n| self.first.is_none_or(|f| *n >= f) && self.last.is_none_or(|l| *n <= l))
            .collect())
    }
}

/// Deletes every segment numbered below `n` in `dir`; returns how many were removed.
pub fn delete_segments_before(dir: &Path, n: u32) -> Result<usize> {
    let mut removed = 0;
    for s in segments(dir)? {
        if s < n {
            let p = segment_path(dir, s);
            fs::remove_file(&p).map_err(|e| Error::io("remove", &p, e))?;
            removed += 1;
        }
    }
    if removed > 0 {
        sync_dir(dir)?;
    }
    Ok(removed)
}

/// Fsyncs a directory so that creations, renames and deletions in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let f = fs::File::open(dir).map_err(|e| Error::io("open dir", dir, e))?;
    f.sync_all().map_err(|e| Error::io("fsync dir", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_eight_digits() {
        assert_eq!(segment_name(0), "00000000");
        assert_eq!(segment_name(42), "00000042");
        assert_eq!(parse_segment_name("00000042"), Some(42));
        assert_eq!(parse_segment_name("checkpoint.00000001"), None);
        assert_eq!(parse_segment_name(""), None);
    }

    #[test]
    fn listing_ignores_other_files_and_detects_gaps() {
        let dir = tempfile::tempdir().unwrap();
        for n in [3u32, 4, 5] {
            fs::write(segment_path(dir.path(), n), b"").unwrap();
        }
        fs::create_dir(dir.path().join("checkpoint.00000002")).unwrap();
        fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        assert_eq!(segments(dir.path()).unwrap(), vec![3, 4, 5]);
        let r = SegmentRange::new(dir.path(), Some(4), None);
        assert_eq!(r.resolve().unwrap(), vec![4, 5]);

        assert_eq!(delete_segments_before(dir.path(), 4).unwrap(), 1);
        assert_eq!(segments(dir.path()).unwrap(), vec![4, 5]);

        fs::write(segment_path(dir.path(), 7), b"").unwrap();
        let err = segments(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::WalSegmentGap {
                    before: 5,
                    after: 7,
                    ..
                }
            ),
            "{err}"
        );
    }
}
