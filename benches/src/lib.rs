//! Shared benchmark helpers; the benchmarks themselves live in `benches/`.
