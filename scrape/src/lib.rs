//! Prometheus-compatible scraping: configuration, service discovery, targets and the scrape loop.

mod config;
pub mod discovery;
mod target;

pub use config::{
    Authorization, BasicAuth, ByteSize, Config, ConfigError, FileSdConfig, GlobalConfig, PromDuration,
    ScrapeConfig, ScrapeProtocol, StaticConfig, TlsConfig, UnitParseError,
};
pub use target::{discovered_labels, populate_labels, scrape_url, targets_from_group, GroupTargets, Target, TargetError};
