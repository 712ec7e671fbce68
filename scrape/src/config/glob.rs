//! File globs as Prometheus allows them: at most one `*`, in the last path segment.

use std::path::{Path, PathBuf};

use super::ConfigError;

/// Expands a pattern with at most one `*` in its last segment into the sorted list of
/// matching files; a pattern without `*` yields itself if it exists.
pub(crate) fn expand_glob(pattern: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let s = pattern.to_string_lossy();
    let Some(star) = s.find('*') else {
        return Ok(if pattern.exists() {
            vec![pattern.to_path_buf()]
        } else {
            Vec::new()
        });
    };
    let (dir, file_pat) = match s.rfind('/') {
        Some(slash) if slash < star => (
            PathBuf::from(s.get(..slash).unwrap_or("/")),
            s.get(slash + 1..).unwrap_or(""),
        ),
        _ => (PathBuf::from("."), s.as_ref()),
    };
    let (prefix, suffix) = file_pat.split_once('*').unwrap_or((file_pat, ""));
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(ConfigError::Io { path: dir, source }),
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.len() >= prefix.len() + suffix.len()
                && name.starts_with(prefix)
                && name.ends_with(suffix)
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}
