//! A batch job that measures itself and pushes the result to a Pushgateway.
//!
//! Usage: `kagari-batch-job [GATEWAY_URL] [--mode push|pushadd|delete] [--records N]
//! [--instance NAME]` (defaults: `http://127.0.0.1:9091`, `push`, 1000, `example`).
//!
//! It processes `N` synthetic records, then sends `batch_job_duration_seconds`,
//! `batch_job_records_processed_total` and `batch_job_last_success_timestamp_seconds` to the
//! group `{job="kagari_batch", instance=NAME}`: `push` replaces the group (PUT), `pushadd`
//! replaces only these families (POST), `delete` removes the group (and does no work).

use kagari_client::{Gauge, IntCounter, Opts, Pusher, Registry};

const JOB: &str = "kagari_batch";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Push,
    PushAdd,
    Delete,
}

#[derive(Debug)]
struct Args {
    gateway: String,
    mode: Mode,
    records: u64,
    instance: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        gateway: "http://127.0.0.1:9091".to_owned(),
        mode: Mode::Push,
        records: 1000,
        instance: "example".to_owned(),
    };
    let mut it = std::env::args().skip(1);
    let mut positional = 0;
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().ok_or(format!("{flag} needs a value"));
        match a.as_str() {
            "--mode" => {
                args.mode = match value("--mode")?.as_str() {
                    "push" => Mode::Push,
                    "pushadd" => Mode::PushAdd,
                    "delete" => Mode::Delete,
                    other => return Err(format!("unknown mode {other:?}")),
                }
            }
            "--records" => {
                args.records = value("--records")?
                    .parse()
                    .map_err(|e| format!("--records: {e}"))?
            }
            "--instance" => args.instance = value("--instance")?,
            s if s.starts_with("--") => return Err(format!("unknown flag {s}")),
            s if positional == 0 => {
                args.gateway = s.to_owned();
                positional += 1;
            }
            s => return Err(format!("unexpected argument {s:?}")),
        }
    }
    Ok(args)
}

/// The "work": a checksum over synthetic records, counting each one.
fn process(records: u64, processed: &IntCounter) -> u64 {
    let mut sum = 0u64;
    for i in 0..records {
        sum = sum.wrapping_mul(31).wrapping_add(i ^ 0x5bd1_e995);
        processed.inc();
    }
    sum
}

fn run(args: &Args) -> Result<(), kagari_client::Error> {
    let pusher = Pusher::new(&args.gateway, JOB)?.grouping("instance", &args.instance)?;
    if args.mode == Mode::Delete {
        pusher.delete()?;
        println!("deleted group job={JOB} instance={}", args.instance);
        return Ok(());
    }
    let registry = Registry::new();
    let duration: Gauge = registry.create(Opts::new(
        "batch_job_duration_seconds",
        "Duration of the last batch job run.",
    ))?;
    let processed: IntCounter = registry.create(Opts::new(
        "batch_job_records_processed_total",
        "Records processed by the last batch job run.",
    ))?;
    let last_success: Gauge = registry.create(Opts::new(
        "batch_job_last_success_timestamp_seconds",
        "Unix time of the last successful batch job run.",
    ))?;
    let timer = duration.start_timer();
    let checksum = process(args.records, &processed);
    let secs = timer.stop();
    last_success.set_to_current_time();
    match args.mode {
        Mode::Push => pusher.push(&registry)?,
        _ => pusher.pushadd(&registry)?,
    }
    println!(
        "processed {} records (checksum {checksum:x}) in {secs:.6} s; {} to {}",
        processed.get(),
        if args.mode == Mode::Push {
            "pushed"
        } else {
            "push-added"
        },
        pusher.url()
    );
    Ok(())
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!(
                "usage: kagari-batch-job [GATEWAY_URL] [--mode push|pushadd|delete] \
                 [--records N] [--instance NAME]"
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("batch job failed: {e}");
        std::process::exit(1);
    }
}
