//! `kagari-tool test rules [--run REGEX]... FILE...`: promtool-format rule unit tests, printed
//! as promtool prints them (verdicts on stdout, `FAILED:` and the failures on stderr).

use std::process::ExitCode;

use kagari_alerting::unittest::{run_test_file, UnitTestOptions};

/// Runs every file; exit status 1 if any failed, 2 for a bad `--run` pattern.
pub(crate) fn run(files: &[String], run_patterns: &[String]) -> ExitCode {
    let opts = match UnitTestOptions::with_run_patterns(run_patterns) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("invalid --run pattern: {e}");
            return ExitCode::from(2);
        }
    };
    let mut failed = false;
    for f in files {
        println!("Unit Testing:  {f}");
        let outcome = run_test_file(f, &opts);
        for w in &outcome.warnings {
            eprintln!("{w}");
        }
        if outcome.passed() {
            println!("  SUCCESS");
        } else {
            failed = true;
            eprintln!("  FAILED:");
            for e in &outcome.errors {
                eprintln!("{e}");
                println!();
            }
        }
        println!();
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
