//! Privacy of logs: a whole local day — registrations, a birth report, the fan-out, an
//! unfollow, a deletion — with known user ids, dates, tokens and secrets, logged through the
//! production logging setup. None of them may appear in any log line.

use kizuna_tests::stack::*;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

use kizuna_core::testing::date as d;

#[tokio::test]
async fn no_user_id_date_token_or_secret_reaches_the_logs() {
    let captured = Captured::default();
    let sink = captured.clone();
    // Our crates at debug, so even their most talkative lines are checked.
    std::env::set_var(
        "RUST_LOG",
        "info,kizuna_app=debug,kizuna_aws=debug,kizuna_line=debug,kizuna_local=debug",
    );
    kizuna_aws::telemetry::init_with_writer(move || sink.clone());

    let today = d(2027, 1, 10);
    let stack = stack_on(today).await;
    let parents: Vec<Parent> = (0..3)
        .map(|n| Parent::new(&stack, "kizuna-town", user(900 + n)))
        .collect();

    let welcome = parents[0].follow_and_agree().await;
    parents[0]
        .tap(&welcome, "出産予定日を選ぶ", Some(d(2027, 2, 3)))
        .await;
    let asked = parents[0].say("生まれました").await;
    parents[0]
        .tap(&asked, "生まれた日を選ぶ", Some(d(2027, 1, 7)))
        .await;
    parents[1].follow_and_agree().await;
    parents[1].say("令和9年6月1日").await;
    parents[2].follow_and_agree().await;
    parents[2].say("2026/11/22").await;
    // A forged request and a broken one are logged too.
    stack
        .post_raw("kizuna-town", b"{}".to_vec(), Some("Zm9yZ2Vk"))
        .await;

    let runs = stack.run_day(today).await.unwrap();
    assert!(runs.iter().all(|r| r.result.is_ok()));
    assert_eq!(stack.line.recorded_pushes().len(), 3);
    parents[2].unfollow().await;
    let asked = parents[1].say("削除").await;
    parents[1].tap(&asked, "削除する", None).await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = logs.lines().collect();
    assert!(
        lines.len() >= 10,
        "the day was logged: {} lines",
        lines.len()
    );
    assert!(
        lines
            .iter()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "JSON lines"
    );
    // The fingerprints are there, so the check below is not vacuous.
    let fingerprint = kizuna_core::LineUserId::parse(&parents[0].user)
        .unwrap()
        .fingerprint();
    assert!(
        logs.contains(&fingerprint),
        "user fingerprints are logged for correlation"
    );

    let town = &stack.towns[0].channel;
    let mut forbidden: Vec<String> = parents.iter().map(|p| p.user.clone()).collect();
    forbidden.extend(parents.iter().map(|p| p.user[1..].to_owned()));
    forbidden.extend(
        [
            "2027-02-03",
            "2027/2/3",
            "2027-01-07",
            "2027-06-01",
            "令和9年6月1日",
            "2026-11-22",
            "2026/11/22",
        ]
        .map(str::to_owned),
    );
    forbidden.push(town.channel_secret.clone());
    forbidden.extend(town.access_tokens.iter().cloned());
    for reply in stack.line.recorded_replies() {
        forbidden.push(reply.reply_token);
    }
    for secret in &forbidden {
        let hits: Vec<&&str> = lines
            .iter()
            .filter(|l| l.contains(secret.as_str()))
            .collect();
        assert!(hits.is_empty(), "{secret:?} appears in the logs: {hits:#?}");
    }
}
