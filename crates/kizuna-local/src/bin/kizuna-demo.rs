//! The main job, locally: the whole stack on emulators, a few parents registering through
//! signed LINE webhooks, one day's fan-out, and what each parent received.
//!
//!     cargo run -p kizuna-local --bin kizuna-demo            # today's run, then exit
//!     cargo run -p kizuna-local --bin kizuna-demo -- --serve # …and keep the webhook serving
//!
//! No AWS account and no Docker: moto plays AWS, fake-line plays LINE.

use anyhow::Context as _;
use chrono::{Datelike, Days, NaiveDate, Utc};
use kizuna_core::today_in_japan;
use kizuna_local::{texts, LocalStack, StackOptions, Town};
use serde_json::{json, Value};
use std::path::PathBuf;

const TOWN: &str = "kizuna-town";

struct Parent {
    name: &'static str,
    user: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let serve = std::env::args().any(|a| a == "--serve");
    let endpoint = kizuna_local::moto::moto_endpoint().to_owned();
    println!("AWS emulator (moto) at {endpoint}");
    let (config, clients) =
        kizuna_local::moto::provisioned_namespace(&format!("demo{}", std::process::id()))
            .await
            .context("creating tables, bucket and queue on moto")?;

    let content = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content");
    let today = today_in_japan(Utc::now());
    let stack = LocalStack::start(
        config,
        clients,
        vec![Town::new(TOWN, "きずな町", 7, 1)],
        &content,
        StackOptions::default(),
    )
    .await?;
    println!("fake LINE at {}", stack.line.base_url);
    println!("webhook at {}/webhook/{TOWN}\n", stack.webhook_base);

    // Parents register in the morning, before the 7:00 delivery.
    stack.set_japan_time(today, 6, 0);
    let parents = register_parents(&stack, today).await?;

    println!("\n=== {today} 7:00 — the daily fan-out ===");
    let runs = stack.run_day(today).await?;
    for run in &runs {
        match &run.result {
            Ok(report) => println!(
                "run {} {} shard {}: {:?} — sent {}, skipped {}, failed {}",
                run.job.municipality,
                run.job.date,
                run.job.shard.index,
                report.status,
                report.counts.sent,
                report.counts.skipped,
                report.counts.failed
            ),
            Err(e) => println!("run {}: failed: {e}", run.job.municipality),
        }
    }
    for p in &parents {
        let pushes = stack.pushes_to(&p.user);
        println!("\n--- {} — {} push(es) today ---", p.name, pushes.len());
        for push in &pushes {
            for (i, text) in texts(push).iter().enumerate() {
                println!("[message {}]\n{text}", i + 1);
            }
        }
    }
    let channel = &stack.towns[0].channel;
    println!(
        "\ncounted LINE messages today: {} for {} parents (replies are free)",
        stack.line.counted_messages(&channel.channel_id),
        parents.len()
    );
    println!(
        "contract violations seen by the fake LINE: {}",
        stack.line.contract_violations().len()
    );

    if serve {
        let body = json!({"destination": channel.bot_user_id, "events": []}).to_string();
        let signature = fake_line::webhook::sign(&channel.channel_secret, body.as_bytes());
        println!("\nServing. Try LINE's console \"Verify\" (an empty, signed event list):");
        println!(
            "  curl -i -X POST {}/webhook/{TOWN} -H 'content-type: application/json' \\\n    -H 'x-line-signature: {signature}' -d '{body}'",
            stack.webhook_base
        );
        println!(
            "Demo channel secret (made up, for signing your own bodies): {}",
            channel.channel_secret
        );
        println!(
            "Recorded pushes: {}/__fake/pushes   (Ctrl-C to stop)",
            stack.line.base_url
        );
        tokio::signal::ctrl_c().await?;
    }
    Ok(())
}

/// Drives each parent's conversation through signed webhooks and prints our replies.
async fn register_parents(stack: &LocalStack, today: NaiveDate) -> anyhow::Result<Vec<Parent>> {
    let town = kizuna_core::MunicipalityId::parse(TOWN)?;
    let mut parents = Vec::new();
    let plan: Vec<(&'static str, Vec<Step>)> = vec![
        (
            "あおいさん (pregnant, due in 150 days)",
            vec![
                Step::Follow,
                Step::Tap(AGREE),
                Step::Picker("出産予定日を選ぶ", today + Days::new(150)),
            ],
        ),
        (
            "ひなたさん (typed a Reiwa birth date, baby 40 days old)",
            vec![
                Step::Follow,
                Step::Tap(AGREE),
                Step::Say(reiwa(today - Days::new(40))),
            ],
        ),
        (
            "さくらさん (reported the birth two days ago)",
            vec![
                Step::Follow,
                Step::Tap(AGREE),
                Step::Picker("出産予定日を選ぶ", today + Days::new(5)),
                Step::Say("生まれました".into()),
                Step::Picker("生まれた日を選ぶ", today - Days::new(2)),
            ],
        ),
        (
            "みなとさん (a 1-year-old today, and expecting again)",
            vec![
                Step::Follow,
                Step::Tap(AGREE),
                Step::Picker(
                    "生年月日を選ぶ",
                    NaiveDate::from_ymd_opt(today.year() - 1, today.month(), today.day().min(28))
                        .unwrap_or(today),
                ),
                Step::Say("追加".into()),
                Step::Picker("出産予定日を選ぶ", today + Days::new(200)),
            ],
        ),
        (
            "そらさん (paused)",
            vec![
                Step::Follow,
                Step::Tap(AGREE),
                Step::Picker("生年月日を選ぶ", today - Days::new(300)),
                Step::Say("停止".into()),
            ],
        ),
    ];
    for (i, (name, steps)) in plan.into_iter().enumerate() {
        let user = format!("U{:032x}", 0xde40_0000_u128 + i as u128);
        println!("=== {name} ===");
        let mut last: Vec<Value> = Vec::new();
        for step in steps {
            let token = stack.reply_token(&user);
            let event = match &step {
                Step::Follow => fake_line::webhook::follow_event(&user, &token, false),
                Step::Say(text) => {
                    println!("  parent: {text}");
                    fake_line::webhook::text_message_event(&user, &token, text)
                }
                Step::Tap(label) => {
                    println!("  parent taps 「{label}」");
                    let data = button_data(&last, label)
                        .with_context(|| format!("no 「{label}」 button in the last reply"))?;
                    fake_line::webhook::postback_event(&user, &token, &data, None)
                }
                Step::Picker(label, date) => {
                    println!("  parent taps 「{label}」 and picks {date}");
                    let data = button_data(&last, label)
                        .with_context(|| format!("no 「{label}」 button in the last reply"))?;
                    fake_line::webhook::postback_event(
                        &user,
                        &token,
                        &data,
                        Some(json!({"date": date.to_string()})),
                    )
                }
            };
            let before = stack.replies_to(&user).len();
            let (status, _) = stack.post_events(&town, vec![event]).await;
            anyhow::ensure!(status == 200, "webhook answered {status}");
            last = stack
                .replies_to(&user)
                .get(before)
                .cloned()
                .unwrap_or_default();
            if let Some(first) = texts(&last).first() {
                let line = first.lines().next().unwrap_or_default();
                println!("  kizuna: {line}…");
            }
        }
        parents.push(Parent { name, user });
    }
    Ok(parents)
}

enum Step {
    Follow,
    Say(String),
    /// A quick-reply postback button without a date.
    Tap(&'static str),
    Picker(&'static str, NaiveDate),
}

/// The privacy notice's button: nothing is stored before the parent taps it.
const AGREE: &str = "同意して登録する";

fn button_data(reply: &[Value], label: &str) -> Option<String> {
    reply.iter().find_map(|m| {
        m["quickReply"]["items"]
            .as_array()?
            .iter()
            .find_map(|item| {
                (item["action"]["label"] == label)
                    .then(|| item["action"]["data"].as_str().map(str::to_owned))?
            })
    })
}

/// 令和N年M月D日 (Reiwa 1 = 2019).
fn reiwa(date: NaiveDate) -> String {
    format!(
        "令和{}年{}月{}日",
        date.year() - 2018,
        date.month(),
        date.day()
    )
}
