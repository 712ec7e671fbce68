//! Runs promqltest scripts and prints one line per eval:
//! `PASS FILE:LINE EXPR` or `FAIL FILE:LINE EXPR: reason`, then `N passed, M failed`.
//!
//! `cargo run -p kagari-promql --example promqltest -- FILE...`

use std::process::ExitCode;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: promqltest FILE...");
        return ExitCode::from(2);
    }
    let (mut passed, mut failed) = (0usize, 0usize);
    for file in &files {
        let src = match std::fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::from(2);
            }
        };
        match kagari_promql::promqltest::run_script(&src) {
            Ok(outcomes) => {
                for o in outcomes {
                    match o.result {
                        Ok(()) => {
                            passed += 1;
                            println!("PASS {file}:{} {}", o.line, o.expr);
                        }
                        Err(reason) => {
                            failed += 1;
                            println!("FAIL {file}:{} {}: {reason}", o.line, o.expr);
                        }
                    }
                }
            }
            Err(e) => {
                failed += 1;
                println!("FAIL {file}:{} <script>: {}", e.line, e.reason);
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
