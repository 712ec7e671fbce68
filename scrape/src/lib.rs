//! Prometheus-compatible scraping: targets, service discovery and the scrape loop (not built yet).
