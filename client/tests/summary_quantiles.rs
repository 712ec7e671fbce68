//! Summary quantiles stay within the configured rank error on known distributions.

use kagari_client::{Summary, SummaryOpts};
use proptest::prelude::*;

const OBJECTIVES: [(f64, f64); 4] = [(0.5, 0.05), (0.9, 0.01), (0.99, 0.001), (0.1, 0.02)];

fn summary() -> Summary {
    let mut opts = SummaryOpts::new();
    for (q, e) in OBJECTIVES {
        opts = opts.objective(q, e);
    }
    Summary::with_opts(opts).unwrap()
}

/// Fraction of `sorted` strictly below / at-or-below `v`.
fn rank_range(sorted: &[f64], v: f64) -> (f64, f64) {
    let n = sorted.len() as f64;
    let lo = sorted.partition_point(|&x| x < v) as f64 / n;
    let hi = sorted.partition_point(|&x| x <= v) as f64 / n;
    (lo, hi)
}

fn check(values: &[f64]) -> Result<(), TestCaseError> {
    let s = summary();
    for &v in values {
        s.observe(v);
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    for (q, est) in s.quantiles() {
        let eps = OBJECTIVES
            .iter()
            .find(|o| o.0 == q)
            .map(|o| o.1)
            .unwrap_or(0.0);
        let (lo, hi) = rank_range(&sorted, est);
        // Allowed: rank error eps·n, plus one rank for rounding to whole observations.
        let slack = eps + 1e-9;
        prop_assert!(
            lo - slack <= q && q <= hi + slack,
            "q={q} eps={eps}: estimate {est} has rank {lo}..{hi} (n={})",
            values.len()
        );
    }
    prop_assert_eq!(s.count(), values.len() as u64);
    Ok(())
}

/// A small deterministic generator so the distributions are reproducible per seed.
fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut x = seed | 1;
    move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn uniform(seed in any::<u64>(), n in 1usize..20_000) {
        let mut r = lcg(seed);
        let v: Vec<f64> = (0..n).map(|_| r() * 1000.0).collect();
        check(&v)?;
    }

    #[test]
    fn exponential(seed in any::<u64>(), n in 1usize..20_000) {
        let mut r = lcg(seed);
        let v: Vec<f64> = (0..n).map(|_| -(1.0 - r()).ln() * 0.2).collect();
        check(&v)?;
    }

    #[test]
    fn normal(seed in any::<u64>(), n in 1usize..20_000) {
        let mut r = lcg(seed);
        let v: Vec<f64> = (0..n)
            .map(|_| {
                let (u1, u2) = (1.0 - r(), r());
                10.0 + 3.0 * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            })
            .collect();
        check(&v)?;
    }

    #[test]
    fn few_distinct_values_and_sorted_input(n in 1usize..5_000, k in 1u32..5) {
        let v: Vec<f64> = (0..n).map(|i| f64::from(i as u32 % k)).collect();
        check(&v)?;
        let mut sorted: Vec<f64> = (0..n).map(|i| i as f64).collect();
        check(&sorted)?;
        sorted.reverse();
        check(&sorted)?;
    }

    #[test]
    fn arbitrary_values(v in proptest::collection::vec(-1e6f64..1e6, 1..3_000)) {
        check(&v)?;
    }
}
