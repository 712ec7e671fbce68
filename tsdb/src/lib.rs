//! A Prometheus-compatible time-series database (not built yet).
