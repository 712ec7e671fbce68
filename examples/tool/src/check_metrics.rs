//! `check metrics`: parse an exposition, report the first error with its position, lint it.

use std::io::{Read, Write};
use std::process::ExitCode;

use kagari_exposition::{parse_openmetrics, parse_text, Format};

/// Runs the check; see the `check metrics` help for the exit codes.
pub(crate) fn run(file: Option<&str>, format: Option<Format>, lint_fatal: bool) -> ExitCode {
    let (display, input) = match read(file) {
        Ok(v) => v,
        Err((display, e)) => {
            eprintln!("{display}: {e}");
            return ExitCode::from(2);
        }
    };
    let format = format.unwrap_or(Format::Text);
    let parsed = match format {
        Format::Text => parse_text(&input),
        Format::OpenMetrics => parse_openmetrics(&input),
    };
    let families = match parsed {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{display}:{e}");
            return ExitCode::from(1);
        }
    };
    let problems = crate::lint::lint(&families, format);
    let mut out = std::io::stdout().lock();
    for p in &problems {
        let _ = writeln!(out, "{} {}", p.metric, p.text);
    }
    if lint_fatal && !problems.is_empty() {
        return ExitCode::from(3);
    }
    ExitCode::SUCCESS
}

fn read(file: Option<&str>) -> Result<(String, Vec<u8>), (String, std::io::Error)> {
    match file {
        None | Some("-") => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| ("<stdin>".to_owned(), e))?;
            Ok(("<stdin>".to_owned(), buf))
        }
        Some(path) => std::fs::read(path)
            .map(|b| (path.to_owned(), b))
            .map_err(|e| (path.to_owned(), e)),
    }
}
