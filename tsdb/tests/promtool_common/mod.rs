//! Helpers shared by the promtool interop tests: the peer rule (from `kagari-testkit`),
//! running commands, and promtool's `tsdb dump` text format.
#![allow(dead_code, unreachable_pub, unused_imports)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::process::Command;

use kagari_model::Labels;

pub use kagari_testkit::{require_peers, shared_path};

/// `true` if `program` runs; otherwise SKIP (or panic when peers are required).
pub fn peer_available(test: &str, program: &str, arg: &str) -> bool {
    kagari_testkit::available(
        kagari_testkit::command_runs(program, arg),
        test,
        &format!("peer {program} not available"),
    )
}

pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Go's `%g` for float64 (what `promtool tsdb dump` prints): shortest digits, exponent form
/// when the decimal exponent is < -4 or >= 6 (`1e+06`, `1.5e-05`).
pub fn go_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let e = format!("{v:e}");
    let (mant, exp) = e.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        format!("{v}")
    }
}

/// Go's `labels.Labels.String()`: `{a="b", c="d"}` with Go-quoted values (ASCII subset).
pub fn go_labels(l: &Labels) -> String {
    let parts: Vec<String> = l
        .iter()
        .map(|l| {
            let mut q = String::from("\"");
            for c in l.value.chars() {
                match c {
                    '"' => q.push_str("\\\""),
                    '\\' => q.push_str("\\\\"),
                    '\n' => q.push_str("\\n"),
                    '\t' => q.push_str("\\t"),
                    c => q.push(c),
                }
            }
            q.push('"');
            format!("{}={q}", l.name)
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

pub fn dump_lines(data: &BTreeMap<Labels, Vec<(i64, f64)>>) -> String {
    let mut out = String::new();
    for (l, samples) in data {
        let ls = go_labels(l);
        for (t, v) in samples {
            out.push_str(&format!("{ls} {} {t}\n", go_g(*v)));
        }
    }
    out
}
