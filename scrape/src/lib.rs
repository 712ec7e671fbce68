//! Prometheus-compatible scraping: configuration, service discovery, targets and the scrape loop.

mod config;

pub use config::{
    Authorization, BasicAuth, ByteSize, Config, ConfigError, FileSdConfig, GlobalConfig, PromDuration,
    ScrapeConfig, ScrapeProtocol, StaticConfig, TlsConfig, UnitParseError,
};
