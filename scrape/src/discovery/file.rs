//! `file_sd_configs`: target groups from JSON or YAML files, re-read when a file's mtime or
//! the set of matching files changes, and in any case every `refresh_interval`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use tokio::sync::mpsc;

use super::{BoxFuture, Discoverer, DiscoveryError, LabelSet, TargetGroup};
use crate::config::{expand_glob, FileSdConfig};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: Option<LabelSet>,
}

/// Parses one file SD file (format by extension). Every group gets `__meta_filepath`;
/// sources are `<path>:<index>`.
///
/// ```
/// let groups = kagari_scrape::discovery::parse_file_sd(
///     "sd.json", br#"[{"targets": ["a:1"], "labels": {"env": "prod"}}]"#).unwrap();
/// assert_eq!(groups[0].source, "sd.json:0");
/// assert_eq!(groups[0].labels["__meta_filepath"], "sd.json");
/// ```
pub fn parse_file_sd(path: &str, content: &[u8]) -> Result<Vec<TargetGroup>, DiscoveryError> {
    let ext = Path::new(path)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let raw: Vec<Option<RawGroup>> = match ext.as_str() {
        "json" => serde_json::from_slice(content).map_err(|source| DiscoveryError::Json {
            path: path.into(),
            source,
        })?,
        "yml" | "yaml" => {
            if content.iter().all(u8::is_ascii_whitespace) {
                Vec::new()
            } else {
                serde_yaml_ng::from_slice::<Option<Vec<Option<RawGroup>>>>(content)
                    .map_err(|source| DiscoveryError::Yaml {
                        path: path.into(),
                        source,
                    })?
                    .unwrap_or_default()
            }
        }
        _ => return Err(DiscoveryError::BadExtension { path: path.into() }),
    };
    let mut out = Vec::with_capacity(raw.len());
    for (index, g) in raw.into_iter().enumerate() {
        let g = g.ok_or_else(|| DiscoveryError::NullGroup {
            path: path.into(),
            index,
        })?;
        let mut labels = g.labels.unwrap_or_default();
        if let Some(name) = labels.keys().find(|n| n.is_empty()) {
            return Err(DiscoveryError::BadLabelName {
                path: path.into(),
                name: name.clone(),
            });
        }
        labels.insert("__meta_filepath".into(), path.into());
        out.push(TargetGroup {
            source: format!("{path}:{index}"),
            targets: g
                .targets
                .into_iter()
                .map(|t| LabelSet::from([("__address__".to_string(), t)]))
                .collect(),
            labels,
        });
    }
    Ok(out)
}

/// Watches the files of one `file_sd_configs` entry by polling mtimes.
#[derive(Debug, Clone)]
pub struct FileDiscoverer {
    patterns: Vec<PathBuf>,
    refresh: Duration,
    poll: Duration,
}

impl FileDiscoverer {
    /// From a config entry; files are checked for changes every second.
    pub fn new(cfg: &FileSdConfig) -> Self {
        FileDiscoverer {
            patterns: cfg.files.iter().map(PathBuf::from).collect(),
            refresh: cfg.refresh_interval.as_duration(),
            poll: Duration::from_secs(1),
        }
    }

    /// Overrides the mtime polling period (tests use a short one).
    pub fn with_poll_interval(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }
}

#[derive(Default)]
struct FileState {
    mtime: Option<SystemTime>,
    len: u64,
    /// Catches an atomic replace (rename) that keeps size and a coarse mtime.
    inode: u64,
    groups: usize,
}

#[cfg(unix)]
fn inode_of(m: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(m)
}

#[cfg(not(unix))]
fn inode_of(_: &std::fs::Metadata) -> u64 {
    0
}

impl FileDiscoverer {
    /// One pass: returns the groups that changed (with empty groups for vanished sources).
    fn scan(&self, state: &mut HashMap<PathBuf, FileState>, force: bool) -> Vec<TargetGroup> {
        let mut files = Vec::new();
        for p in &self.patterns {
            match expand_glob(p) {
                Ok(f) => files.extend(f),
                Err(e) => tracing::warn!(pattern = %p.display(), error = %e, "file SD glob failed"),
            }
        }
        let mut update = Vec::new();
        for f in &files {
            let meta = std::fs::metadata(f).ok();
            let mtime = meta.as_ref().and_then(|m| m.modified().ok());
            let len = meta.as_ref().map_or(0, std::fs::Metadata::len);
            let inode = meta.as_ref().map_or(0, inode_of);
            let st = state.entry(f.clone()).or_default();
            if !force
                && st.mtime.is_some()
                && st.mtime == mtime
                && st.len == len
                && st.inode == inode
            {
                continue;
            }
            let path = f.to_string_lossy().into_owned();
            let parsed = std::fs::read(f)
                .map_err(|source| DiscoveryError::Io {
                    path: path.clone(),
                    source,
                })
                .and_then(|c| parse_file_sd(&path, &c));
            match parsed {
                Ok(groups) => {
                    st.mtime = mtime;
                    st.len = len;
                    st.inode = inode;
                    for i in groups.len()..st.groups {
                        update.push(TargetGroup {
                            source: format!("{path}:{i}"),
                            ..Default::default()
                        });
                    }
                    st.groups = groups.len();
                    update.extend(groups);
                }
                // Keep the previous state of a file that fails to parse.
                Err(e) => tracing::warn!(error = %e, "file SD: keeping previous targets"),
            }
        }
        let gone: Vec<PathBuf> = state
            .keys()
            .filter(|k| !files.contains(k))
            .cloned()
            .collect();
        for g in gone {
            if let Some(st) = state.remove(&g) {
                let path = g.to_string_lossy();
                for i in 0..st.groups {
                    update.push(TargetGroup {
                        source: format!("{path}:{i}"),
                        ..Default::default()
                    });
                }
            }
        }
        update
    }
}

impl Discoverer for FileDiscoverer {
    fn run(self: Box<Self>, tx: mpsc::Sender<Vec<TargetGroup>>) -> BoxFuture<()> {
        Box::pin(async move {
            let mut state = HashMap::new();
            let first = self.scan(&mut state, true);
            if tx.send(first).await.is_err() {
                return;
            }
            let mut last_full = Instant::now();
            loop {
                tokio::time::sleep(self.poll.min(self.refresh.max(Duration::from_millis(1)))).await;
                let force = last_full.elapsed() >= self.refresh;
                if force {
                    last_full = Instant::now();
                }
                let update = self.scan(&mut state, force);
                if !update.is_empty() && tx.send(update).await.is_err() {
                    return;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_files() {
        let g = parse_file_sd(
            "a.JSON",
            br#"[{"targets":["x:1","y:2"]},{"targets":["z:3"],"labels":{"k":"v"}}]"#,
        )
        .unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].targets[1]["__address__"], "y:2");
        assert_eq!(g[1].labels["k"], "v");
        assert_eq!(g[1].source, "a.JSON:1");
        let g = parse_file_sd("b.yml", b"- targets: ['x:1']\n  labels: {env: prod}\n").unwrap();
        assert_eq!(g[0].labels["env"], "prod");
        assert!(parse_file_sd("c.yaml", b"").unwrap().is_empty());
        assert!(parse_file_sd("c.yaml", b"[]").unwrap().is_empty());
        assert!(parse_file_sd("c.json", b"[]").unwrap().is_empty());
    }

    #[test]
    fn bad_files() {
        let cases: [(&str, &[u8], &str); 5] = [
            ("e.json", b"", "EOF"),
            ("e.json", br#"[{"targets":[],"bogus":1}]"#, "unknown field"),
            ("e.yml", b"- targets: [a]\n  bogus: 1\n", "unknown field"),
            ("e.yml", b"- \n", "nil target group"),
            ("e.txt", b"[]", "extension"),
        ];
        for (path, content, want) in cases {
            let e = parse_file_sd(path, content).unwrap_err().to_string();
            assert!(e.contains(want), "{path}: {e}");
        }
    }
}
