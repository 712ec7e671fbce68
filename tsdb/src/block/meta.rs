//! `meta.json`: a block's identity, time range, statistics and compaction history.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Ulid;
use crate::error::{Error, Result};

/// The file name inside a block directory.
pub const META_FILE: &str = "meta.json";
/// The only meta file version Prometheus accepts.
pub const META_VERSION: u32 = 1;

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// The contents of `meta.json` (field names as Prometheus writes them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMeta {
    /// The block's ULID, equal to its directory name.
    pub ulid: Ulid,
    /// Inclusive lower bound of the time range (ms).
    pub min_time: i64,
    /// Exclusive upper bound of the time range (ms).
    pub max_time: i64,
    /// Counts.
    #[serde(default)]
    pub stats: BlockStats,
    /// Compaction history.
    #[serde(default)]
    pub compaction: BlockCompaction,
    /// Meta file version; must be 1.
    pub version: u32,
}

/// Block statistics; zero fields are omitted from the JSON, as in Prometheus.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockStats {
    /// Samples of all kinds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_samples: u64,
    /// Float samples (Prometheus 3.x; Kagari does not write it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_float_samples: u64,
    /// Histogram samples (Prometheus 3.x).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_histogram_samples: u64,
    /// Series in the index.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_series: u64,
    /// Chunks referenced by the index.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_chunks: u64,
    /// Tombstone intervals.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_tombstones: u64,
}

/// A parent block of a compacted block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockDesc {
    /// The parent's ULID.
    pub ulid: Ulid,
    /// Its min time.
    pub min_time: i64,
    /// Its max time.
    pub max_time: i64,
}

/// The `compaction` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockCompaction {
    /// 1 for blocks cut from the head, parents' max + 1 for compacted blocks.
    #[serde(default)]
    pub level: u32,
    /// Level-1 blocks whose data is inside (sorted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Ulid>,
    /// Blocks merged directly into this one (Prometheus deletes them on reload).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<BlockDesc>,
    /// Marks a block for deletion.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deletable: bool,
    /// Compaction of this block failed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub failed: bool,
    /// Hints such as `from-out-of-order` (sorted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
}

impl BlockMeta {
    /// Serialises like Prometheus: tab-indented JSON.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(512);
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        self.serialize(&mut ser).map_err(|e| Error::Meta {
            path: META_FILE.into(),
            source: e,
        })?;
        Ok(out)
    }

    /// Reads and validates `<dir>/meta.json` (version must be 1).
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(META_FILE);
        let data = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        let meta: BlockMeta = serde_json::from_slice(&data).map_err(|e| Error::Meta {
            path: path.clone(),
            source: e,
        })?;
        if meta.version != META_VERSION {
            return Err(Error::Unsupported {
                file: path.display().to_string(),
                what: "meta version",
                found: u64::from(meta.version),
            });
        }
        Ok(meta)
    }

    /// Writes `<dir>/meta.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        super::write_file_atomically(&dir.join(META_FILE), &self.to_json()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROMTOOL: &str = "{\n\t\"ulid\": \"01M80PNGX1209N705AFM892FHF\",\n\t\"minTime\": 1700000000000,\n\t\"maxTime\": 1700000045501,\n\t\"stats\": {\n\t\t\"numSamples\": 8,\n\t\t\"numSeries\": 3,\n\t\t\"numChunks\": 3\n\t},\n\t\"compaction\": {\n\t\t\"level\": 1,\n\t\t\"sources\": [\n\t\t\t\"01M80PNGX1209N705AFM892FHF\"\n\t\t]\n\t},\n\t\"version\": 1\n}";

    #[test]
    fn identical_to_promtool_json() {
        let meta: BlockMeta = serde_json::from_str(PROMTOOL).unwrap();
        assert_eq!(meta.stats.num_samples, 8);
        assert_eq!(meta.compaction.sources, vec![meta.ulid]);
        assert_eq!(
            String::from_utf8(meta.to_json().unwrap()).unwrap(),
            PROMTOOL
        );
    }

    #[test]
    fn reads_compacted_meta_and_rejects_other_versions() {
        let compacted = r#"{"ulid":"01M80K94A3A91RDVE9R12ZN2JM","minTime":1,"maxTime":2,"stats":{"numSamples":5},
            "compaction":{"level":2,"sources":["01M80K1SVHG05353ZSNKZF59GS"],
            "parents":[{"ulid":"01M80K1SVHG05353ZSNKZF59GS","minTime":1,"maxTime":2}],"hints":["from-out-of-order"]},
            "version":1,"futureField":true}"#;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(META_FILE), compacted).unwrap();
        let m = BlockMeta::read(dir.path()).unwrap();
        assert_eq!(m.compaction.level, 2);
        assert_eq!(m.compaction.parents.len(), 1);
        std::fs::write(
            dir.path().join(META_FILE),
            compacted.replace("\"version\":1", "\"version\":2"),
        )
        .unwrap();
        assert!(matches!(
            BlockMeta::read(dir.path()),
            Err(Error::Unsupported { found: 2, .. })
        ));
        std::fs::write(dir.path().join(META_FILE), "{").unwrap();
        assert!(matches!(
            BlockMeta::read(dir.path()),
            Err(Error::Meta { .. })
        ));
    }
}
