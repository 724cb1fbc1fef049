//! The chaos suite's CI run (docs/reliability.md has the long run and its numbers).
//!
//! Each seed runs one day's fan-out for 400 households in three towns, worked by two sender
//! processes that are SIGKILLed three times at random moments, with LINE answering 429/500/
//! timeouts for 20 % of pushes (and losing 3 % of responses after delivering), the emulator
//! throttled and failing ~12 % of requests, half the jobs duplicated on the queue and the
//! scheduler firing twice. Every household the core plans a message for gets exactly one push;
//! none gets two; nobody else gets any; the run records and the `Sent` metric count exactly the
//! households LINE delivered to; no sender log line names a user or holds a channel secret or
//! token.

use kizuna_local::chaos::{self, ChaosPlan};
use std::path::PathBuf;

fn content_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content")
}

async fn run_seed(seed: u64) {
    let namespace = format!("chaos{}-{seed}", std::process::id());
    let (config, clients) = kizuna_local::moto::provisioned_namespace(&namespace)
        .await
        .expect("provisioning on moto");
    let log_dir = std::env::temp_dir().join(format!("kizuna-chaos-logs/{namespace}"));
    let _ = std::fs::remove_dir_all(&log_dir);
    let plan = ChaosPlan::ci(seed);
    let report = chaos::run(
        &plan,
        config,
        clients,
        &content_dir(),
        PathBuf::from(env!("CARGO_BIN_EXE_kizuna-send-worker")).as_path(),
        &log_dir,
    )
    .await
    .expect("chaos run");
    println!("{}", serde_json::to_string(&report).unwrap());
    assert!(
        report.expected > 100,
        "too few deliveries planned: {report:?}"
    );
    assert_eq!(report.kills, plan.kills, "{report:?}");
    assert!(
        report.aws_faults > 0,
        "the emulator proxy injected nothing: {report:?}"
    );
    assert!(
        report.line_rejections > 0,
        "LINE injected nothing: {report:?}"
    );
    assert_eq!(report.duplicates, 0, "households pushed twice: {report:?}");
    assert_eq!(report.misses, 0, "households never pushed: {report:?}");
    assert_eq!(report.unexpected, 0, "pushes nobody should get: {report:?}");
    assert_eq!(report.delivered_once, report.expected, "{report:?}");
    // The run records and the metrics count each delivery once, whichever attempt made it.
    assert_eq!(
        report.counted_sent, report.delivered as u64,
        "run records disagree with LINE: {report:?}"
    );
    assert_eq!(
        report.metric_sent, report.counted_sent,
        "the Sent metric disagrees with the run records: {report:?}"
    );
    assert!(
        report.worker_log_lines > 0,
        "no sender logs captured: {report:?}"
    );
    assert_eq!(
        report.log_lines_with_user_ids, 0,
        "user ids, secrets or tokens in logs: {report:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_senders_faulty_line_and_a_throttled_emulator_still_send_each_household_once() {
    for seed in [1, 2] {
        run_seed(seed).await;
    }
}
