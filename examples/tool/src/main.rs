//! `kagari-tool`: Kagari's promtool.
//!
//! ```text
//! kagari-tool check metrics [--format text|openmetrics] [--lint-fatal] [FILE|-]
//! kagari-tool tsdb list [-r] [DIR]
//! kagari-tool tsdb dump [--min-time T] [--max-time T] [--match SELECTOR]... [DIR]
//! kagari-tool tsdb analyze [--limit N] [DIR] [BLOCK_ID]
//! kagari-tool tsdb create-blocks-from openmetrics [-r] [-q] [--max-block-duration D] FILE [DIR]
//! kagari-tool test rules [--run REGEX]... FILE...
//! ```

mod check_metrics;
mod lint;
mod test_rules;
mod tsdb;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Kagari's promtool.
#[derive(Debug, Parser)]
#[command(name = "kagari-tool", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check resources for validity.
    #[command(subcommand)]
    Check(Check),
    /// Run TSDB commands (list, dump, analyze, create-blocks-from).
    #[command(subcommand)]
    Tsdb(tsdb::TsdbCommand),
    /// Unit testing.
    #[command(subcommand)]
    Test(Test),
}

#[derive(Debug, Subcommand)]
enum Test {
    /// Unit tests for rules (promtool's test-file format).
    ///
    /// Exit status: 0 when every file passes, 1 otherwise.
    Rules {
        /// Only run test groups whose name matches this regular expression (anchored;
        /// repeatable).
        #[arg(long = "run", value_name = "REGEX")]
        run: Vec<String>,
        /// The unit test files.
        #[arg(required = true)]
        files: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum Check {
    /// Parse and lint a metrics exposition (like `promtool check metrics`).
    ///
    /// Exit status: 0 valid (lint findings are printed), 1 parse error (printed as
    /// `file:line:col: reason`), 2 usage or I/O error, 3 lint findings with --lint-fatal.
    Metrics(MetricsArgs),
}

/// Arguments of `check metrics`.
#[derive(Debug, clap::Args)]
struct MetricsArgs {
    /// Exposition format (default: text, i.e. 0.0.4, as promtool).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Exit with status 3 when the linter finds problems.
    #[arg(long)]
    lint_fatal: bool,
    /// The file to check; `-` or nothing reads stdin.
    file: Option<String>,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.
    Openmetrics,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(Check::Metrics(args)) => {
            let format = args.format.map(|f| match f {
                FormatArg::Text => kagari_exposition::Format::Text,
                FormatArg::Openmetrics => kagari_exposition::Format::OpenMetrics,
            });
            check_metrics::run(args.file.as_deref(), format, args.lint_fatal)
        }
        Command::Tsdb(cmd) => tsdb::run(cmd),
        Command::Test(Test::Rules { files, run }) => test_rules::run(&files, &run),
    }
}
