//! `kagari-tool test rules FILE...`: promtool-format rule unit tests, printed as promtool
//! prints them (verdicts on stdout, `FAILED:` and the failures on stderr).

use std::process::ExitCode;

use kagari_alerting::unittest::run_test_file;

/// Runs every file; exit status 1 if any failed.
pub(crate) fn run(files: &[String]) -> ExitCode {
    let mut failed = false;
    for f in files {
        println!("Unit Testing:  {f}");
        let outcome = run_test_file(f);
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
