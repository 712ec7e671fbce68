//! Helpers shared by the promtool interop tests: the peer rule, running commands, and
//! promtool's `tsdb dump` text format.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use kagari_model::Labels;

/// A file under the shared folder: `$KAGARI_SHARED/<rel>`, else `shared/` beside the
/// workspace (as `scripts/test-all` assumes), else `/work/shared/<rel>`.
pub fn shared_path(rel: &str) -> PathBuf {
    let candidates = [
        std::env::var_os("KAGARI_SHARED").map(|s| PathBuf::from(s).join(rel)),
        Some(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared")
                .join(rel),
        ),
    ];
    let found = candidates.iter().flatten().find(|p| p.exists()).cloned();
    found.unwrap_or_else(|| PathBuf::from("/work/shared").join(rel))
}

pub fn require_peers() -> bool {
    std::env::var("KAGARI_REQUIRE_PEERS").is_ok_and(|v| v == "true")
}

/// `true` if `program` runs; otherwise SKIP (or panic when peers are required).
pub fn peer_available(test: &str, program: &str, arg: &str) -> bool {
    let ok = Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !require_peers(),
            "{test}: peer {program} missing and KAGARI_REQUIRE_PEERS=true"
        );
        eprintln!("SKIP {test}: peer {program} not available (set KAGARI_REQUIRE_PEERS=true to fail instead)");
    }
    ok
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
