//! Recording and alerting rules, templates and the Alertmanager notifier (not built yet).
