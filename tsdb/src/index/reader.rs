//! Reads a memory-mapped index file (versions 2 and 3).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use parking_lot::RwLock;

use kagari_model::{Label, Labels, MatchType, Matcher};

use super::encoding::{check_crc, Decbuf};
use super::postings::{intersect, merge, without};
use super::{ChunkMeta, SeriesRef, MAGIC_INDEX, TOC_LEN};
use crate::chunks::{ChunkRef, MappedFile};
use crate::error::{Error, Result};

const FILE: &str = "index";

/// Offsets from the table of contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Toc {
    /// Symbol table.
    pub symbols: u64,
    /// First byte after the symbol table.
    pub series: u64,
    /// Legacy label index sections (or end of series).
    pub label_indices: u64,
    /// Legacy label offset table (3.x: same as `postings_offset_table`).
    pub label_offset_table: u64,
    /// Start of the postings area.
    pub postings: u64,
    /// Postings offset table.
    pub postings_offset_table: u64,
}

/// A read-only view of a block index.
#[derive(Debug)]
pub struct IndexReader {
    map: MappedFile,
    version: u8,
    toc: Toc,
    /// (start, len) of each symbol in the map; validated UTF-8.
    symbols: Vec<(usize, usize)>,
    /// label name -> (value, postings list offset), values in ascending order.
    postings: BTreeMap<String, Vec<(String, u64)>>,
    /// Label sets decoded by [`IndexReader::series`], so that querying a series again shares
    /// its `Labels` instead of allocating every name and value anew. Bounded: once it holds
    /// [`LABELS_CACHE_MAX`] series, further series are decoded each time.
    labels_cache: RwLock<HashMap<SeriesRef, Labels>>,
}

/// Series whose label sets one block index keeps decoded (a few MiB at most for typical
/// label sets).
const LABELS_CACHE_MAX: usize = 1 << 14;

fn section(map: &[u8], offset: u64) -> Result<&[u8]> {
    map.get(offset as usize..)
        .ok_or_else(|| Error::corrupt(FILE, offset, "section offset beyond end of file"))
}

/// Reads a `be32 len | len bytes | be32 CRC` section, returning a decoder over the `len` bytes.
fn crc_section(map: &[u8], offset: u64) -> Result<Decbuf<'_>> {
    let mut d = Decbuf::new(FILE, section(map, offset)?, offset);
    let len = d.be32()? as usize;
    let body = d.bytes(len)?;
    let crc = d.be32()?;
    check_crc(FILE, offset + 4, body, crc)?;
    Ok(Decbuf::new(FILE, body, offset + 4))
}

impl IndexReader {
    /// Opens and validates the header, TOC, symbol table and postings offset table.
    pub fn open(path: &Path) -> Result<Self> {
        let map = MappedFile::open(path)?;
        if map.len() < 5 + TOC_LEN {
            return Err(Error::corrupt(
                FILE,
                0,
                format!("file too small ({} bytes)", map.len()),
            ));
        }
        let mut d = Decbuf::new(FILE, &map, 0);
        let magic = d.be32()?;
        if magic != MAGIC_INDEX {
            return Err(Error::Unsupported {
                file: FILE.into(),
                what: "magic",
                found: u64::from(magic),
            });
        }
        let version = d.byte()?;
        if version != 2 && version != 3 {
            return Err(Error::Unsupported {
                file: FILE.into(),
                what: "version",
                found: u64::from(version),
            });
        }
        let toc_off = (map.len() - TOC_LEN) as u64;
        let mut d = Decbuf::new(FILE, section(&map, toc_off)?, toc_off);
        let toc_bytes = d.clone().bytes(48)?;
        let toc = Toc {
            symbols: d.be64()?,
            series: d.be64()?,
            label_indices: d.be64()?,
            label_offset_table: d.be64()?,
            postings: d.be64()?,
            postings_offset_table: d.be64()?,
        };
        check_crc(FILE, toc_off, toc_bytes, d.be32()?)?;

        let mut symbols = Vec::new();
        {
            let mut d = crc_section(&map, toc.symbols)?;
            let n = d.be32()?;
            symbols.reserve(n.min(1 << 20) as usize);
            let base = toc.symbols as usize + 4;
            for _ in 0..n {
                let s = d.str()?;
                let end = (d.offset() as usize).saturating_sub(base);
                symbols.push((base + end - s.len(), s.len()));
            }
        }

        let mut postings: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
        {
            let mut d = crc_section(&map, toc.postings_offset_table)?;
            let n = d.be32()?;
            for _ in 0..n {
                let at = d.offset();
                let keys = d.uvarint()?;
                if keys != 2 {
                    return Err(Error::corrupt(
                        FILE,
                        at,
                        format!("postings offset entry has {keys} keys, want 2"),
                    ));
                }
                let name = d.str()?;
                let value = d.str()?;
                let off = d.uvarint()?;
                let values = postings.entry(name.to_owned()).or_default();
                if values
                    .last()
                    .is_some_and(|(v, _)| v.as_bytes() >= value.as_bytes())
                {
                    return Err(Error::corrupt(FILE, at, "postings offset table not sorted"));
                }
                values.push((value.to_owned(), off));
            }
        }
        Ok(IndexReader {
            map,
            version,
            toc,
            symbols,
            postings,
            labels_cache: RwLock::new(HashMap::new()),
        })
    }

    /// The index format version (2 or 3).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The table of contents.
    pub fn toc(&self) -> Toc {
        self.toc
    }

    /// Number of symbols.
    pub fn num_symbols(&self) -> usize {
        self.symbols.len()
    }

    /// The symbol with the given reference (0-based position).
    pub fn symbol(&self, r: u32) -> Result<&str> {
        let (start, len) = *self
            .symbols
            .get(r as usize)
            .ok_or_else(|| Error::BadReference {
                kind: "symbol",
                reference: u64::from(r),
                file: FILE.into(),
            })?;
        let b = self.map.get(start..start + len).unwrap_or_default();
        std::str::from_utf8(b)
            .map_err(|_| Error::corrupt(FILE, start as u64, "symbol is not UTF-8"))
    }

    /// All symbols in order.
    pub fn symbols(&self) -> impl Iterator<Item = Result<&str>> + '_ {
        (0..self.symbols.len() as u32).map(|i| self.symbol(i))
    }

    /// Label names present in the block (sorted, without the all-postings key).
    pub fn label_names(&self) -> Vec<&str> {
        self.postings
            .keys()
            .filter(|k| !k.is_empty())
            .map(String::as_str)
            .collect()
    }

    /// Values of label `name` present in the block (sorted).
    pub fn label_values(&self, name: &str) -> Vec<&str> {
        self.postings
            .get(name)
            .map(|v| v.iter().map(|(v, _)| v.as_str()).collect())
            .unwrap_or_default()
    }

    fn read_postings(&self, offset: u64) -> Result<Vec<SeriesRef>> {
        let mut d = crc_section(&self.map, offset)?;
        let n = d.be32()? as usize;
        if d.remaining() != n * 4 {
            return Err(d.err(format!(
                "postings list of {n} entries has {} bytes",
                d.remaining()
            )));
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(d.be32()?);
        }
        if out.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::corrupt(
                FILE,
                offset,
                "postings list not strictly ascending",
            ));
        }
        Ok(out)
    }

    /// The series with label `name` = `value` (empty if none).
    pub fn postings(&self, name: &str, value: &str) -> Result<Vec<SeriesRef>> {
        let off = self.postings.get(name).and_then(|vals| {
            vals.binary_search_by(|(v, _)| v.as_bytes().cmp(value.as_bytes()))
                .ok()
                .and_then(|i| vals.get(i))
                .map(|(_, o)| *o)
        });
        match off {
            Some(off) => self.read_postings(off),
            None => Ok(Vec::new()),
        }
    }

    /// Every series in the block.
    pub fn all_postings(&self) -> Result<Vec<SeriesRef>> {
        self.postings("", "")
    }

    /// The series selected by all `matchers` (a series without a label has the empty value for
    /// it, as in Prometheus). With no matchers, every series.
    pub fn postings_for_matchers(&self, matchers: &[Matcher]) -> Result<Vec<SeriesRef>> {
        let mut include = Vec::new();
        let mut exclude = Vec::new();
        for m in matchers {
            let values = self
                .postings
                .get(m.name())
                .map(Vec::as_slice)
                .unwrap_or_default();
            if m.matches("") {
                // Keep everything except series whose (present) value fails the matcher.
                let lists = values
                    .iter()
                    .filter(|(v, _)| !m.matches(v))
                    .map(|(_, off)| self.read_postings(*off))
                    .collect::<Result<Vec<_>>>()?;
                exclude.push(merge(&lists));
            } else {
                let lists = if m.match_type() == MatchType::Equal {
                    vec![self.postings(m.name(), m.value())?]
                } else {
                    values
                        .iter()
                        .filter(|(v, _)| m.matches(v))
                        .map(|(_, off)| self.read_postings(*off))
                        .collect::<Result<Vec<_>>>()?
                };
                include.push(merge(&lists));
            }
        }
        let base = if include.is_empty() {
            self.all_postings()?
        } else {
            intersect(&include)
        };
        Ok(without(&base, &merge(&exclude)))
    }

    /// Decodes series `r`: returns its labels and fills `chunks` (cleared first) with its chunk
    /// metas.
    pub fn series(&self, r: SeriesRef, chunks: &mut Vec<ChunkMeta>) -> Result<Labels> {
        chunks.clear();
        let off = u64::from(r) * 16;
        let bad_ref = || Error::BadReference {
            kind: "series",
            reference: u64::from(r),
            file: FILE.into(),
        };
        if off < self.toc.series || (self.toc.label_indices != 0 && off >= self.toc.label_indices) {
            return Err(bad_ref());
        }
        let rest = self.map.get(off as usize..).ok_or_else(bad_ref)?;
        let mut d = Decbuf::new(FILE, rest, off);
        let len = d.uvarint()? as usize;
        let body_off = d.offset();
        let body = d.bytes(len)?;
        check_crc(FILE, body_off, body, d.be32()?)?;
        let mut d = Decbuf::new(FILE, body, body_off);
        let nlabels = d.uvarint()?;
        let cached = self.labels_cache.read().get(&r).cloned();
        let labels = match cached {
            Some(l) => {
                for _ in 0..nlabels {
                    d.uvarint()?;
                    d.uvarint()?;
                }
                l
            }
            None => {
                let l = self.decode_labels(&mut d, nlabels)?;
                let mut cache = self.labels_cache.write();
                if cache.len() < LABELS_CACHE_MAX {
                    cache.insert(r, l.clone());
                }
                l
            }
        };
        self.chunk_metas(&mut d, chunks)?;
        Ok(labels)
    }

    /// Decodes `n` label symbol-reference pairs.
    fn decode_labels(&self, d: &mut Decbuf<'_>, nlabels: u64) -> Result<Labels> {
        let mut labels: Vec<Label> = Vec::with_capacity(nlabels.min(64) as usize);
        for _ in 0..nlabels {
            let at = d.offset();
            let n = self
                .symbol(u32::try_from(d.uvarint()?).map_err(|_| d.err("symbol ref overflow"))?)?;
            let v = self
                .symbol(u32::try_from(d.uvarint()?).map_err(|_| d.err("symbol ref overflow"))?)?;
            if labels
                .last()
                .is_some_and(|l| l.name.as_bytes() >= n.as_bytes())
                || n.is_empty()
                || v.is_empty()
            {
                return Err(Error::corrupt(
                    FILE,
                    at,
                    format!("label {n:?}={v:?} out of order or empty"),
                ));
            }
            labels.push(Label {
                name: n.into(),
                value: v.into(),
            });
        }
        Ok(Labels::from_sorted_unchecked(labels))
    }

    /// Decodes a series entry's chunk metas into `chunks`.
    fn chunk_metas(&self, d: &mut Decbuf<'_>, chunks: &mut Vec<ChunkMeta>) -> Result<()> {
        let nchunks = d.uvarint()?;
        let mut prev: Option<ChunkMeta> = None;
        for _ in 0..nchunks {
            let c = match prev {
                None => {
                    let min_time = d.varint()?;
                    let max_time = min_time.wrapping_add(d.uvarint()? as i64);
                    ChunkMeta {
                        min_time,
                        max_time,
                        chunk_ref: ChunkRef(d.uvarint()?),
                    }
                }
                Some(p) => {
                    let min_time = p.max_time.wrapping_add(d.uvarint()? as i64);
                    let max_time = min_time.wrapping_add(d.uvarint()? as i64);
                    let chunk_ref = ChunkRef(p.chunk_ref.0.wrapping_add(d.varint()? as u64));
                    ChunkMeta {
                        min_time,
                        max_time,
                        chunk_ref,
                    }
                }
            };
            chunks.push(c);
            prev = Some(c);
        }
        Ok(())
    }
}
