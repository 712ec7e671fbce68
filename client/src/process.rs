//! The Linux process collector: `process_*` metrics read from `/proc/self` at scrape time.

use std::io;
use std::path::{Path, PathBuf};

use kagari_exposition::{MetricType, Value};

use crate::collector::{Collector, Desc, MetricWriter};

/// Clock ticks per second assumed for `/proc/<pid>/stat` times (`USER_HZ`, 100 on Linux).
const USER_HZ: f64 = 100.0;
/// `AT_PAGESZ` in the auxiliary vector.
const AT_PAGESZ: u64 = 6;

/// Values read from `/proc` for one scrape.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessStats {
    /// User plus system CPU seconds.
    pub cpu_seconds: f64,
    /// Resident set size in bytes.
    pub resident_memory_bytes: f64,
    /// Virtual memory size in bytes.
    pub virtual_memory_bytes: f64,
    /// Unix time the process started, in seconds.
    pub start_time_seconds: f64,
    /// Number of open file descriptors.
    pub open_fds: Option<f64>,
    /// Soft limit on open file descriptors.
    pub max_fds: Option<f64>,
}

/// Collects `process_cpu_seconds_total`, `process_resident_memory_bytes`,
/// `process_virtual_memory_bytes`, `process_start_time_seconds`, `process_open_fds` and
/// `process_max_fds` for this process (or another `/proc/<pid>`), as the Go client does.
#[derive(Debug, Clone)]
pub struct ProcessCollector {
    proc_dir: PathBuf,
    namespace: String,
}

impl Default for ProcessCollector {
    fn default() -> Self {
        Self::new()
    }
}

const FAMILIES: [(&str, MetricType, &str); 6] = [
    (
        "cpu_seconds",
        MetricType::Counter,
        "Total user and system CPU time spent in seconds.",
    ),
    (
        "open_fds",
        MetricType::Gauge,
        "Number of open file descriptors.",
    ),
    (
        "max_fds",
        MetricType::Gauge,
        "Maximum number of open file descriptors.",
    ),
    (
        "virtual_memory_bytes",
        MetricType::Gauge,
        "Virtual memory size in bytes.",
    ),
    (
        "resident_memory_bytes",
        MetricType::Gauge,
        "Resident memory size in bytes.",
    ),
    (
        "start_time_seconds",
        MetricType::Gauge,
        "Start time of the process since unix epoch in seconds.",
    ),
];

/// Parses the fields after `comm` in `/proc/<pid>/stat`: returns (utime, stime, starttime
/// ticks, vsize bytes, rss pages).
pub(crate) fn parse_stat(stat: &str) -> Option<(f64, f64, f64, f64, f64)> {
    // `comm` may contain spaces and parentheses; it ends at the last ')'.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let f: Vec<&str> = rest.split_ascii_whitespace().collect();
    // rest[0] is field 3 (state); field k is at index k - 3.
    let num = |k: usize| f.get(k - 3).and_then(|s| s.parse::<f64>().ok());
    Some((num(14)?, num(15)?, num(22)?, num(23)?, num(24)?))
}

/// The soft "Max open files" limit from `/proc/<pid>/limits` (`unlimited` → None).
pub(crate) fn parse_max_fds(limits: &str) -> Option<f64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.get("Max open files".len()..)?
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `btime` from `/proc/stat`.
pub(crate) fn parse_boot_time(stat: &str) -> Option<f64> {
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// The page size from a native-endian 64-bit auxiliary vector.
pub(crate) fn parse_page_size(auxv: &[u8]) -> Option<u64> {
    let word = |c: &[u8]| c.try_into().ok().map(u64::from_ne_bytes);
    auxv.chunks_exact(16).find_map(|pair| {
        let (k, v) = pair.split_at(8);
        (word(k)? == AT_PAGESZ).then(|| word(v)).flatten()
    })
}

impl ProcessCollector {
    /// Collects for this process.
    pub fn new() -> Self {
        ProcessCollector {
            proc_dir: PathBuf::from("/proc/self"),
            namespace: String::new(),
        }
    }

    /// Collects for process `pid`.
    pub fn for_pid(pid: u32) -> Self {
        ProcessCollector {
            proc_dir: PathBuf::from(format!("/proc/{pid}")),
            namespace: String::new(),
        }
    }

    /// Prefixes the names (`<ns>_process_…`).
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.namespace = ns.into();
        self
    }

    fn path(&self, file: &str) -> PathBuf {
        self.proc_dir.join(file)
    }

    /// Reads the current values.
    pub fn stats(&self) -> io::Result<ProcessStats> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("bad {what}"));
        let stat = std::fs::read_to_string(self.path("stat"))?;
        let (utime, stime, start_ticks, vsize, rss) =
            parse_stat(&stat).ok_or_else(|| bad("/proc/<pid>/stat"))?;
        let boot = parse_boot_time(&std::fs::read_to_string(Path::new("/proc/stat"))?)
            .ok_or_else(|| bad("/proc/stat btime"))?;
        let page_size = std::fs::read(self.path("auxv"))
            .ok()
            .and_then(|a| parse_page_size(&a))
            .unwrap_or(4096);
        let open_fds = std::fs::read_dir(self.path("fd"))
            .ok()
            .map(|d| d.count() as f64);
        let max_fds = std::fs::read_to_string(self.path("limits"))
            .ok()
            .and_then(|l| parse_max_fds(&l));
        Ok(ProcessStats {
            cpu_seconds: (utime + stime) / USER_HZ,
            resident_memory_bytes: rss * page_size as f64,
            virtual_memory_bytes: vsize,
            start_time_seconds: boot + start_ticks / USER_HZ,
            open_fds,
            max_fds,
        })
    }

    fn name(&self, short: &str) -> String {
        if self.namespace.is_empty() {
            format!("process_{short}")
        } else {
            format!("{}_process_{short}", self.namespace)
        }
    }
}

impl Collector for ProcessCollector {
    fn describe(&self) -> Vec<Desc> {
        FAMILIES
            .iter()
            .map(|(short, t, help)| Desc {
                name: self.name(short),
                metric_type: *t,
                help: (*help).to_owned(),
                label_names: Vec::new(),
            })
            .collect()
    }

    fn collect(&self, w: &mut MetricWriter<'_>) -> io::Result<()> {
        // An unreadable /proc yields no process metrics rather than a failed scrape.
        let Ok(s) = self.stats() else { return Ok(()) };
        let values = [
            Some(s.cpu_seconds),
            s.open_fds,
            s.max_fds,
            Some(s.virtual_memory_bytes),
            Some(s.resident_memory_bytes),
            Some(s.start_time_seconds),
        ];
        for ((short, t, help), v) in FAMILIES.iter().zip(values) {
            let Some(v) = v else { continue };
            let name = self.name(short);
            w.family(&name, *t, help, None)?;
            let suffix = if *t == MetricType::Counter {
                "_total"
            } else {
                ""
            };
            w.sample(suffix, &[], None, Value::Float(v), None, None)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_tricky_comm() {
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 \
                    12345 1048576 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0";
        assert_eq!(
            parse_stat(stat),
            Some((250.0, 50.0, 12345.0, 1_048_576.0, 300.0))
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 1 2"), None);
    }

    #[test]
    fn limits_and_btime() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 4096                 files\n";
        assert_eq!(parse_max_fds(limits), Some(1024.0));
        assert_eq!(
            parse_max_fds("Max open files unlimited unlimited files"),
            None
        );
        assert_eq!(parse_boot_time("cpu 1 2\nbtime 1700000000\n"), Some(1.7e9));
    }

    #[test]
    fn auxv_page_size() {
        let mut a = Vec::new();
        for (k, v) in [(3u64, 64u64), (6, 16384), (0, 0)] {
            a.extend_from_slice(&k.to_ne_bytes());
            a.extend_from_slice(&v.to_ne_bytes());
        }
        assert_eq!(parse_page_size(&a), Some(16384));
        assert_eq!(parse_page_size(&a[..16]), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let s = ProcessCollector::new().stats().unwrap();
        assert!(s.resident_memory_bytes > 0.0);
        assert!(s.virtual_memory_bytes >= s.resident_memory_bytes);
        assert!(s.start_time_seconds > 1.0e9);
        assert!(s.open_fds.unwrap_or(0.0) >= 3.0);
        assert!(s.max_fds.unwrap_or(f64::INFINITY) >= s.open_fds.unwrap_or(0.0));
        let now = crate::atomic::unix_now_seconds();
        assert!(s.start_time_seconds <= now + 1.0);
    }
}
