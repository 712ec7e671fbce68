//! `kagari-tool tsdb ...`: promtool 2.42's TSDB commands.
//!
//! * [`list`]: the block table.
//! * [`dump`]: samples of blocks and the head (WAL) as `{labels} value timestamp` lines.
//! * [`analyze`]: cardinality statistics of one block.
//! * [`backfill`]: `create-blocks-from openmetrics`.
//! * [`format`]: Go-compatible output formatting.

mod analyze;
mod backfill;
mod dump;
mod format;
mod list;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

/// Errors of the `tsdb` commands, each with the file or argument involved.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ToolError {
    /// Reading or writing the database failed.
    #[error("{0}")]
    Tsdb(#[from] kagari_tsdb::Error),
    /// An I/O operation on `path` failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The input file does not parse.
    #[error("{file}:{line}:{column}: {reason}")]
    Parse {
        /// The input file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based byte column.
        column: usize,
        /// Why.
        reason: String,
    },
    /// The input file parses but its samples cannot be stored (e.g. two values at one time).
    #[error("{file}: {reason}")]
    Input {
        /// The input file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// A bad command-line argument.
    #[error("{0}")]
    Usage(String),
}

impl ToolError {
    fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ToolError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// `tsdb` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum TsdbCommand {
    /// List the blocks of a TSDB (like `promtool tsdb list`).
    List {
        /// Print human-readable times and sizes.
        #[arg(short = 'r', long)]
        human_readable: bool,
        /// The database directory.
        #[arg(default_value = "data/")]
        dir: PathBuf,
    },
    /// Dump samples of the blocks and the head (WAL) (like `promtool tsdb dump`).
    Dump {
        /// Minimum timestamp to dump (ms).
        #[arg(long, default_value_t = i64::MIN, allow_hyphen_values = true)]
        min_time: i64,
        /// Maximum timestamp to dump (ms).
        #[arg(long, default_value_t = i64::MAX, allow_hyphen_values = true)]
        max_time: i64,
        /// Series selector; repeat for a union. Default: all series.
        #[arg(long = "match")]
        matches: Vec<String>,
        /// The database directory.
        #[arg(default_value = "data/")]
        dir: PathBuf,
    },
    /// Show cardinality statistics of a block (like `promtool tsdb analyze`).
    Analyze {
        /// How many entries to show in each list.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Also print the chunk fullness histogram.
        #[arg(long)]
        extended: bool,
        /// The database directory.
        #[arg(default_value = "data/")]
        dir: PathBuf,
        /// Block to analyze (default: the last one).
        block_id: Option<String>,
    },
    /// Create blocks from an input file (like `promtool tsdb create-blocks-from`).
    #[command(subcommand)]
    CreateBlocksFrom(CreateBlocksFrom),
}

/// Input formats of `create-blocks-from`.
#[derive(Debug, Subcommand)]
pub(crate) enum CreateBlocksFrom {
    /// Import samples from an OpenMetrics file (every sample needs a timestamp).
    Openmetrics {
        /// Print human-readable values.
        #[arg(short = 'r', long)]
        human_readable: bool,
        /// Do not print created blocks.
        #[arg(short = 'q', long)]
        quiet: bool,
        /// Maximum duration of created blocks (2h, 6h, 18h, ... are used: 2h * 3^n).
        #[arg(long, default_value = "2h")]
        max_block_duration: String,
        /// The OpenMetrics file.
        input: PathBuf,
        /// Output directory for generated blocks.
        #[arg(default_value = "data/")]
        output: PathBuf,
    },
}

/// Runs a `tsdb` subcommand: exit 0 on success, 1 with the error on stderr otherwise.
pub(crate) fn run(cmd: TsdbCommand) -> ExitCode {
    let result = match cmd {
        TsdbCommand::List {
            human_readable,
            dir,
        } => list::run(&dir, human_readable),
        TsdbCommand::Dump {
            min_time,
            max_time,
            matches,
            dir,
        } => dump::run(&dir, min_time, max_time, &matches),
        TsdbCommand::Analyze {
            limit,
            extended,
            dir,
            block_id,
        } => analyze::run(&dir, block_id.as_deref(), limit, extended),
        TsdbCommand::CreateBlocksFrom(CreateBlocksFrom::Openmetrics {
            human_readable,
            quiet,
            max_block_duration,
            input,
            output,
        }) => backfill::run(&input, &output, &max_block_duration, human_readable, quiet),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
