//! Client instrumentation: metrics, registry, `/metrics` and push (not built yet).
