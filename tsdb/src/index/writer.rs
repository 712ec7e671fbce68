//! Writes an index file in format version 2, in the layout of Prometheus 3.x (no legacy label
//! index sections; `label_offset_table` points at the postings offset table).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use kagari_model::Labels;

use super::encoding::{put_be32, put_be64, put_str, put_uvarint, put_varint};
use super::{ChunkMeta, SeriesRef, FORMAT_V2, MAGIC_INDEX};
use crate::error::{Error, Result};

const WRITER: &str = "index writer";

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidInput {
        writer: WRITER,
        reason: reason.into(),
    }
}

/// Streams an index file: call [`add_symbols`](Self::add_symbols) once, then
/// [`add_series`](Self::add_series) in ascending label-set order, then [`finish`](Self::finish).
///
/// Postings are collected in memory (4 bytes per label pair per series) and written at the end.
#[derive(Debug)]
pub struct IndexWriter {
    path: PathBuf,
    w: BufWriter<File>,
    pos: u64,
    symbols: Vec<String>,
    symbols_written: bool,
    series_start: u64,
    last_labels: Option<Labels>,
    last_chunk_ref: u64,
    all: Vec<SeriesRef>,
    /// (name symbol, value symbol) -> series; symbol order equals string order.
    postings: BTreeMap<(u32, u32), Vec<SeriesRef>>,
    buf: Vec<u8>,
}

impl IndexWriter {
    /// Creates the file and writes the header.
    pub fn new(path: &Path) -> Result<Self> {
        let file = File::create(path).map_err(|e| Error::io("create", path, e))?;
        let mut w = IndexWriter {
            path: path.to_path_buf(),
            w: BufWriter::with_capacity(1 << 20, file),
            pos: 0,
            symbols: Vec::new(),
            symbols_written: false,
            series_start: 0,
            last_labels: None,
            last_chunk_ref: 0,
            all: Vec::new(),
            postings: BTreeMap::new(),
            buf: Vec::with_capacity(256),
        };
        let mut header = Vec::with_capacity(5);
        put_be32(&mut header, MAGIC_INDEX);
        header.push(FORMAT_V2);
        w.write(&header)?;
        Ok(w)
    }

    fn write(&mut self, b: &[u8]) -> Result<()> {
        self.w
            .write_all(b)
            .map_err(|e| Error::io("write", self.path.clone(), e))?;
        self.pos += b.len() as u64;
        Ok(())
    }

    fn pad_to(&mut self, align: u64) -> Result<()> {
        let rem = self.pos % align;
        if rem != 0 {
            let zeros = [0u8; 16];
            let n = (align - rem) as usize;
            self.write(zeros.get(..n).unwrap_or(&[]))?;
        }
        Ok(())
    }

    /// Writes the symbol table. Symbols must be strictly ascending (byte order) and include every
    /// label name and value of every series added later. Must be called exactly once.
    pub fn add_symbols<'s>(&mut self, symbols: impl IntoIterator<Item = &'s str>) -> Result<()> {
        if self.symbols_written {
            return Err(invalid("symbols already written"));
        }
        let symbols: Vec<String> = symbols.into_iter().map(str::to_owned).collect();
        if let Some(w) = symbols
            .windows(2)
            .find(|w| w[0].as_bytes() >= w[1].as_bytes())
        {
            return Err(invalid(format!(
                "symbols not strictly ascending: {:?} then {:?}",
                w[0], w[1]
            )));
        }
        let count = u32::try_from(symbols.len()).map_err(|_| invalid("too many symbols"))?;
        let mut body = Vec::new();
        put_be32(&mut body, count);
        for s in &symbols {
            put_str(&mut body, s.as_bytes());
        }
        let len =
            u32::try_from(body.len()).map_err(|_| invalid("symbol table larger than 4 GiB"))?;
        let mut out = Vec::with_capacity(body.len() + 8);
        put_be32(&mut out, len);
        out.extend_from_slice(&body);
        put_be32(&mut out, crc32c::crc32c(&body));
        self.write(&out)?;
        self.series_start = self.pos;
        self.symbols = symbols;
        self.symbols_written = true;
        Ok(())
    }

    fn symbol_ref(&self, s: &str) -> Result<u32> {
        self.symbols
            .binary_search_by(|x| x.as_bytes().cmp(s.as_bytes()))
            .map(|i| i as u32)
            .map_err(|_| invalid(format!("{s:?} is not in the symbol table")))
    }

    /// Adds a series; label sets must be strictly ascending, chunks sorted and non-overlapping,
    /// and chunk references non-decreasing across all series. Returns the series reference.
    pub fn add_series(&mut self, labels: &Labels, chunks: &[ChunkMeta]) -> Result<SeriesRef> {
        if !self.symbols_written {
            return Err(invalid("add_symbols must be called before add_series"));
        }
        if let Some(last) = &self.last_labels {
            if labels <= last {
                return Err(invalid(format!("series {labels} not after {last}")));
            }
        }
        self.buf.clear();
        put_uvarint(&mut self.buf, labels.len() as u64);
        let mut pairs = Vec::with_capacity(labels.len());
        for l in labels.iter() {
            let n = self.symbol_ref(&l.name)?;
            let v = self.symbol_ref(&l.value)?;
            put_uvarint(&mut self.buf, u64::from(n));
            put_uvarint(&mut self.buf, u64::from(v));
            pairs.push((n, v));
        }
        put_uvarint(&mut self.buf, chunks.len() as u64);
        let mut prev: Option<&ChunkMeta> = None;
        for c in chunks {
            if c.min_time > c.max_time {
                return Err(invalid(format!(
                    "chunk of {labels} has mint {} > maxt {}",
                    c.min_time, c.max_time
                )));
            }
            if c.chunk_ref.0 < self.last_chunk_ref {
                return Err(invalid(format!(
                    "chunk reference {:#x} of {labels} goes backwards",
                    c.chunk_ref.0
                )));
            }
            match prev {
                None => {
                    put_varint(&mut self.buf, c.min_time);
                    put_uvarint(&mut self.buf, c.max_time.wrapping_sub(c.min_time) as u64);
                    put_uvarint(&mut self.buf, c.chunk_ref.0);
                }
                Some(p) => {
                    if c.min_time <= p.max_time {
                        return Err(invalid(format!(
                            "chunks of {labels} overlap at {}",
                            c.min_time
                        )));
                    }
                    put_uvarint(&mut self.buf, c.min_time.wrapping_sub(p.max_time) as u64);
                    put_uvarint(&mut self.buf, c.max_time.wrapping_sub(c.min_time) as u64);
                    put_varint(
                        &mut self.buf,
                        c.chunk_ref.0.wrapping_sub(p.chunk_ref.0) as i64,
                    );
                }
            }
            self.last_chunk_ref = c.chunk_ref.0;
            prev = Some(c);
        }
        self.pad_to(16)?;
        let id = u32::try_from(self.pos / 16).map_err(|_| invalid("index exceeds 64 GiB"))?;
        let mut head = Vec::with_capacity(10);
        put_uvarint(&mut head, self.buf.len() as u64);
        let crc = crc32c::crc32c(&self.buf).to_be_bytes();
        let body = std::mem::take(&mut self.buf);
        let res = self
            .write(&head)
            .and_then(|()| self.write(&body))
            .and_then(|()| self.write(&crc));
        self.buf = body;
        res?;
        self.all.push(id);
        for p in pairs {
            self.postings.entry(p).or_default().push(id);
        }
        self.last_labels = Some(labels.clone());
        Ok(id)
    }

    fn write_postings_list(&mut self, refs: &[SeriesRef]) -> Result<u64> {
        self.pad_to(4)?;
        let start = self.pos;
        let mut b = Vec::with_capacity(12 + 4 * refs.len());
        let len =
            u32::try_from(4 + 4 * refs.len()).map_err(|_| invalid("postings list too long"))?;
        put_be32(&mut b, len);
        put_be32(&mut b, refs.len() as u32);
        for r in refs {
            put_be32(&mut b, *r);
        }
        let crc = crc32c::crc32c(b.get(4..).unwrap_or(&[]));
        put_be32(&mut b, crc);
        self.write(&b)?;
        Ok(start)
    }

    /// Writes postings, the postings offset table and the TOC, then fsyncs the file.
    pub fn finish(mut self) -> Result<()> {
        if !self.symbols_written {
            self.add_symbols(std::iter::empty())?;
        }
        let series_end = self.pos;
        let all = std::mem::take(&mut self.all);
        let mut table = Vec::new();
        let all_off = self.write_postings_list(&all)?;
        put_uvarint(&mut table, 2);
        put_str(&mut table, b"");
        put_str(&mut table, b"");
        put_uvarint(&mut table, all_off);
        let mut entries: u32 = 1;
        let postings = std::mem::take(&mut self.postings);
        for ((n, v), refs) in &postings {
            let off = self.write_postings_list(refs)?;
            let name = self
                .symbols
                .get(*n as usize)
                .map(String::as_bytes)
                .unwrap_or_default();
            let value = self
                .symbols
                .get(*v as usize)
                .map(String::as_bytes)
                .unwrap_or_default();
            put_uvarint(&mut table, 2);
            put_str(&mut table, name);
            put_str(&mut table, value);
            put_uvarint(&mut table, off);
            entries += 1;
        }
        let table_off = self.pos;
        let mut body = Vec::with_capacity(table.len() + 4);
        put_be32(&mut body, entries);
        body.extend_from_slice(&table);
        let mut out = Vec::with_capacity(body.len() + 8);
        put_be32(
            &mut out,
            u32::try_from(body.len()).map_err(|_| invalid("postings offset table too large"))?,
        );
        out.extend_from_slice(&body);
        put_be32(&mut out, crc32c::crc32c(&body));
        self.write(&out)?;

        let mut toc = Vec::with_capacity(52);
        for v in [
            5,
            self.series_start,
            series_end,
            table_off,
            series_end,
            table_off,
        ] {
            put_be64(&mut toc, v);
        }
        let crc = crc32c::crc32c(&toc);
        put_be32(&mut toc, crc);
        self.write(&toc)?;
        let path = self.path.clone();
        let file = self
            .w
            .into_inner()
            .map_err(|e| Error::io("flush", &path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io("fsync", &path, e))?;
        Ok(())
    }
}
