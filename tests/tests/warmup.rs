//! Warm-up at init (`KIZUNA_WARM_UP_AT_INIT`, `kizuna_aws::warmup`): every probe reaches its
//! service through the function's own clients, and none of them changes anything — no item,
//! no LINE request that counts or breaks the contract. An unreachable LINE does not fail it.

use kizuna_aws::warmup::{self, Service};
use kizuna_aws::{compose, Config};
use kizuna_line::LineClient;
use kizuna_local::StackOptions;
use kizuna_tests::stack::*;

fn tables(config: &Config) -> [String; 4] {
    let t = &config.tables;
    [
        t.municipalities.clone(),
        t.households.clone(),
        t.events.clone(),
        t.deliveries.clone(),
    ]
}

#[tokio::test]
async fn warm_up_reaches_every_service_and_changes_nothing() {
    let stack = stack_with(vec![kizuna_town()], StackOptions::default()).await;
    let mut before = Vec::new();
    for table in tables(&stack.config) {
        before.push(table_snapshot(&stack, &table).await);
    }

    let line = compose::line_client(&stack.config).unwrap();
    let report = warmup::warm_up(&stack.config, &stack.clients, &line, warmup::SENDER).await;
    assert!(report.all_reached(), "{report:?}");
    let probed: Vec<Service> = report.probes.iter().map(|p| p.service).collect();
    assert_eq!(probed, warmup::SENDER);

    // The webhook's set is a subset, and the warmed client still works for real calls.
    let report = warmup::warm_up(&stack.config, &stack.clients, &line, warmup::WEBHOOK).await;
    assert!(report.all_reached(), "{report:?}");
    assert_eq!(report.probes.len(), warmup::WEBHOOK.len());

    let mut after = Vec::new();
    for table in tables(&stack.config) {
        after.push(table_snapshot(&stack, &table).await);
    }
    assert_eq!(before, after, "warm-up wrote to a table");
    assert!(stack.line.rejected_requests().is_empty());
    assert!(stack.line.contract_violations().is_empty());
    let channel = &kizuna_town().channel.channel_id;
    assert_eq!(stack.line.counted_messages(channel), 0);
}

#[tokio::test]
async fn an_unreachable_service_is_reported_and_the_others_still_warm() {
    let stack = stack_with(vec![kizuna_town()], StackOptions::default()).await;
    // A port nothing listens on: LINE refuses the connection.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let line = LineClient::new(&format!("http://127.0.0.1:{port}")).unwrap();
    let report = warmup::warm_up(&stack.config, &stack.clients, &line, warmup::WEBHOOK).await;
    assert!(!report.all_reached());
    for probe in &report.probes {
        assert_eq!(
            probe.reached.is_ok(),
            probe.service != Service::Line,
            "{probe:?}"
        );
    }
    // Answered before the Lambda's init limit (10 s): a dead service costs at most the probe
    // timeout, never a hang.
    assert!(report.elapsed < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn both_settings_compose_the_lambda_handlers() {
    // What the webhook and sender mains call at init, with the setting off and on.
    for warm_up in [false, true] {
        let stack = stack_with(vec![kizuna_town()], StackOptions::default()).await;
        let mut config = stack.config.clone();
        config.warm_up_at_init = warm_up;
        let clock = stack.clock.clone();
        compose::webhook_handler_at_init(&config, &stack.clients, clock.clone())
            .await
            .expect("webhook handler");
        compose::sender_at_init(&config, &stack.clients, clock, Default::default())
            .await
            .expect("sender");
        assert!(stack.line.contract_violations().is_empty());
    }
}
