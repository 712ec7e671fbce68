//! Prometheus text 0.0.4 and OpenMetrics 1.0: parser and encoder (not built yet).
