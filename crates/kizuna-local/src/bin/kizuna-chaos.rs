//! The long chaos run: `kizuna-chaos --runs 100 --seed 1 [--households 10000] [--size ci|long]`.
//!
//! Runs seeds `seed .. seed + runs`, one fresh emulator namespace each, and prints one JSON
//! line per run and a summary; exits non-zero if any run had a duplicate, a miss, an
//! unexpected push or a user id in a log. Use `bash scripts/chaos`, which builds the sender
//! worker first. See docs/reliability.md.

use anyhow::{bail, Context as _};
use kizuna_local::chaos::{self, ChaosPlan};
use std::path::PathBuf;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let runs: u64 = arg(&args, "--runs").map_or(Ok(100), |v| v.parse())?;
    let first_seed: u64 = arg(&args, "--seed").map_or(Ok(1), |v| v.parse())?;
    let size = arg(&args, "--size").unwrap_or_else(|| "long".into());
    let households: Option<u32> = arg(&args, "--households").map(|v| v.parse()).transpose()?;
    let out = PathBuf::from(arg(&args, "--out").unwrap_or_else(|| "target/chaos".into()));
    let worker = std::env::current_exe()?.with_file_name("kizuna-send-worker");
    if !worker.exists() {
        bail!(
            "{} not found: build it first (cargo build -p kizuna-local --bins)",
            worker.display()
        );
    }
    let content = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content");
    std::fs::create_dir_all(&out)?;
    let results = out.join("results.jsonl");
    let mut totals = (0usize, 0usize, 0usize, 0usize, 0u32);
    let mut dirty = Vec::new();
    for seed in first_seed..first_seed + runs {
        let mut plan = match size.as_str() {
            "ci" => ChaosPlan::ci(seed),
            "long" => ChaosPlan::long(seed),
            other => bail!("--size must be ci or long, not {other}"),
        };
        if let Some(n) = households {
            plan.households = n;
        }
        let namespace = format!("chaos{}-{seed}", std::process::id());
        let (config, clients) = kizuna_local::moto::provisioned_namespace(&namespace)
            .await
            .context("provisioning on moto")?;
        let log_dir = out.join(format!("logs/seed-{seed}"));
        let _ = std::fs::remove_dir_all(&log_dir);
        let report = chaos::run(&plan, config, clients, &content, &worker, &log_dir).await?;
        let line = serde_json::to_string(&serde_json::json!({ "plan": plan, "report": report }))?;
        println!("{line}");
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&results)?
            .write_all(format!("{line}\n").as_bytes())?;
        totals.0 += report.expected;
        totals.1 += report.duplicates;
        totals.2 += report.misses;
        totals.3 += report.unexpected;
        totals.4 += report.kills;
        if !report.is_clean() {
            dirty.push(seed);
        } else {
            // Keep the logs of runs that found something only.
            let _ = std::fs::remove_dir_all(&log_dir);
        }
    }
    println!(
        "chaos: {runs} runs, {} planned deliveries, {} kills: {} duplicates, {} misses, {} unexpected; runs with findings: {:?}",
        totals.0, totals.4, totals.1, totals.2, totals.3, dirty
    );
    if !dirty.is_empty() {
        bail!(
            "chaos runs with findings: {dirty:?} (logs under {})",
            out.display()
        );
    }
    Ok(())
}

use std::io::Write as _;
