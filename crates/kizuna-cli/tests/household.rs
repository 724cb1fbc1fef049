//! `kizuna household show|export|delete|audit` in-process against moto and the fake LINE:
//! a resident's request at the counter, answered from what is really stored, audited, and a
//! deletion that leaves nothing of that parent in any table.

use chrono::NaiveDate;
use kizuna_app::ports::HouseholdStore;
use kizuna_aws::audit::audit_fingerprint;
use kizuna_aws::compose;
use kizuna_cli::commands::household::{self, Lookup, LookupArgs};
use kizuna_cli::commands::ops::Ops;
use kizuna_core::{Household, LineUserId, Registration, RegistrationStatus, Subject};
use kizuna_local::{japan_time, LocalStack};
use kizuna_tests::stack::{stack_on, user, Parent};
use serde_json::Value;
use std::process::ExitCode;

use kizuna_core::testing::date as d;

fn text(buf: Vec<u8>) -> String {
    String::from_utf8(buf).unwrap()
}

const TOWN: &str = "kizuna-town";

fn args() -> LookupArgs {
    LookupArgs {
        municipality: kizuna_core::MunicipalityId::parse(TOWN).unwrap(),
        user_file: None,
        operator: "yamada (住民課)".into(),
        stray: Vec::new(),
    }
}

/// The id piped on stdin, as a clerk would: `echo U… | kizuna household show …`.
fn lookup_from_stdin(id: &str) -> Lookup {
    Lookup::from_args(&args(), &mut format!("{id}\n").as_bytes()).unwrap()
}

/// Every item of every table, as text: what "nothing of that parent" is checked against.
async fn every_table(ops: &Ops) -> String {
    let t = &ops.config.tables;
    let mut all = String::new();
    for table in [&t.municipalities, &t.households, &t.events, &t.deliveries] {
        let mut start = None;
        loop {
            let out = ops
                .clients
                .dynamodb
                .scan()
                .table_name(table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            for item in out.items.unwrap_or_default() {
                all.push_str(&format!("{table}: {item:?}\n"));
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
    }
    all
}

/// Every item's scalar attributes (keys, versions, statuses), in a stable order: enough to
/// see that nothing was written or deleted.
async fn every_table_keys(ops: &Ops) -> String {
    let t = &ops.config.tables;
    let mut lines = Vec::new();
    for table in [&t.municipalities, &t.households, &t.events, &t.deliveries] {
        let out = ops
            .clients
            .dynamodb
            .scan()
            .table_name(table)
            .send()
            .await
            .unwrap();
        for item in out.items.unwrap_or_default() {
            let scalars: std::collections::BTreeMap<_, _> = item
                .iter()
                .filter(|(_, v)| v.is_s() || v.is_n() || v.is_bool())
                .map(|(k, v)| (k.clone(), format!("{v:?}")))
                .collect();
            lines.push(format!("{table}: {scalars:?}"));
        }
    }
    lines.sort();
    lines.join("\n")
}

/// きずな町 on `date`: the parent (user 0, pregnant) and a neighbour (user 1), both sent
/// today's message, and the parent has also written to the account (a webhook event).
async fn town_with_a_parent(date: NaiveDate) -> (LocalStack, Ops, String, String) {
    let stack = stack_on(date).await;
    let ops = Ops::new(stack.config.clone(), stack.clients.clone());
    let town = kizuna_core::MunicipalityId::parse(TOWN).unwrap();
    let households = compose::households(&ops.config, &ops.clients);
    for n in 0..2 {
        let mut h = Household::new(town.clone(), LineUserId::parse(&user(n)).unwrap());
        h.registrations = vec![Registration {
            id: 1,
            subject: Subject::Pregnancy {
                due_date: d(2027, 5, 1 + n),
            },
            baby_count: 1,
            status: RegistrationStatus::Active,
            registered_on: d(2026, 9, 1),
        }];
        households.save(&h).await.unwrap();
    }
    stack.run_day(date).await.unwrap();
    assert_eq!(stack.pushes_to(&user(0)).len(), 1);
    Parent::new(&stack, TOWN, user(0)).say("登録内容").await;
    (stack, ops, user(0), user(1))
}

#[tokio::test]
async fn show_export_delete_answer_a_residents_request_and_leave_nothing_behind() {
    let date = d(2027, 1, 10);
    let (stack, ops, parent, neighbour) = town_with_a_parent(date).await;
    let now = japan_time(date, 15, 0);
    let before = every_table(&ops).await;
    assert!(before.contains(&parent) && before.contains(&neighbour));

    // show: a readable summary, naming the parent only by fingerprint.
    let mut out = Vec::new();
    let code = household::show(&ops, &lookup_from_stdin(&parent), now, &mut out)
        .await
        .unwrap();
    let shown = text(out);
    assert_eq!(code, ExitCode::SUCCESS, "{shown}");
    assert!(shown.contains("友だち登録中 following"), "{shown}");
    assert!(shown.contains("出産予定日 due 2027-05-01"), "{shown}");
    assert!(shown.contains("登録日 registered 2026-09-01"), "{shown}");
    assert!(shown.contains(&format!("{date} sent")), "{shown}");
    assert!(shown.contains("webhook_events"), "{shown}");
    assert!(!shown.contains(&parent), "{shown}");

    // export: everything stored, as JSON.
    let mut out = Vec::new();
    let code = household::export(&ops, &lookup_from_stdin(&parent), now, &mut out)
        .await
        .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    let exported: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(exported["line_user_id"], parent.as_str());
    assert_eq!(exported["household"]["user"], parent.as_str());
    assert_eq!(
        exported["household"]["registrations"][0]["subject"]["due_date"],
        "2027-05-01"
    );
    let ledger = exported["delivery_ledger"].as_array().unwrap();
    assert_eq!(ledger.len(), 1, "{exported:#}");
    assert_eq!(ledger[0]["date"], date.to_string());
    assert_eq!(ledger[0]["state"], "sent");

    // delete, not confirmed: nothing changes (but the attempt is audited).
    let without_audit = |all: String| -> String {
        all.lines()
            .filter(|l| !l.contains("audit#"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let before = without_audit(every_table_keys(&ops).await);
    let mut out = Vec::new();
    let code = household::delete(
        &ops,
        &lookup_from_stdin(&parent),
        now,
        false,
        &mut "ama-town\n".as_bytes(),
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(code, ExitCode::from(1));
    assert!(text(out).contains("nothing deleted"));
    assert_eq!(without_audit(every_table_keys(&ops).await), before);

    // delete, confirmed by typing the municipality id.
    let mut out = Vec::new();
    let code = household::delete(
        &ops,
        &lookup_from_stdin(&parent),
        now,
        false,
        &mut format!("{TOWN}\n").as_bytes(),
        &mut out,
    )
    .await
    .unwrap();
    let printed = text(out);
    assert_eq!(code, ExitCode::SUCCESS, "{printed}");
    assert!(
        printed.contains("household (世帯と登録), 1 ledger item(s)"),
        "{printed}"
    );

    // Nothing of that parent in any table — the audit records included; the neighbour intact.
    let after = every_table(&ops).await;
    assert!(!after.contains(&parent), "{after}");
    assert!(after.contains(&neighbour));
    assert!(stack
        .household(
            &kizuna_core::MunicipalityId::parse(TOWN).unwrap(),
            &neighbour
        )
        .await
        .is_some());

    // Asked again: nothing stored, said so (exit 1).
    let mut out = Vec::new();
    let code = household::show(&ops, &lookup_from_stdin(&parent), now, &mut out)
        .await
        .unwrap();
    assert_eq!(code, ExitCode::from(1));
    assert!(text(out).contains("保存なし (none stored)"));

    // The audit trail: every use, who and what, by fingerprint.
    let mut out = Vec::new();
    household::audit(&ops, &args().municipality, &mut out)
        .await
        .unwrap();
    let trail = text(out);
    let fp = audit_fingerprint(&parent);
    assert_eq!(trail.matches(&fp).count(), 5, "{trail}");
    assert!(trail.contains("yamada (住民課)"), "{trail}");
    for outcome in [
        "household found (1 registration(s)), 1 ledger item(s)",
        "not confirmed: nothing deleted",
        "deleted: household, 1 ledger item(s)",
        "nothing stored",
    ] {
        assert!(trail.contains(outcome), "{outcome}: {trail}");
    }
    assert!(trail.contains("5 record(s)"), "{trail}");
    assert!(!trail.contains(&parent));
}

#[tokio::test]
async fn an_id_on_the_command_line_or_no_id_is_refused_and_audited() {
    let date = d(2027, 1, 10);
    let (_stack, ops, parent, _) = town_with_a_parent(date).await;
    let now = japan_time(date, 15, 0);

    // `kizuna household show --municipality … U…`: refused without a look-up or an echo.
    let mut on_argv = args();
    on_argv.stray = vec![parent.clone()];
    let lookup = Lookup::from_args(&on_argv, &mut "".as_bytes()).unwrap();
    let mut out = Vec::new();
    let code = household::show(&ops, &lookup, now, &mut out).await.unwrap();
    let printed = text(out);
    assert_eq!(code, ExitCode::from(2));
    assert!(
        printed.contains("コマンドラインに書かないでください"),
        "{printed}"
    );
    assert!(printed.contains("Never give a LINE user id"), "{printed}");
    assert!(!printed.contains(&parent), "{printed}");

    // `--user-file U…`: an id where the file name belongs, refused the same way.
    let mut as_file = args();
    as_file.user_file = Some(parent.clone().into());
    let lookup = Lookup::from_args(&as_file, &mut "".as_bytes()).unwrap();
    let mut out = Vec::new();
    let code = household::delete(&ops, &lookup, now, true, &mut "".as_bytes(), &mut out)
        .await
        .unwrap();
    assert_eq!(code, ExitCode::from(2));

    // A file that cannot be read: refused (and audited), not an unaudited error.
    let mut missing = args();
    missing.user_file = Some("/nonexistent/id.txt".into());
    let lookup = Lookup::from_args(&missing, &mut "".as_bytes()).unwrap();
    let mut out = Vec::new();
    let code = household::show(&ops, &lookup, now, &mut out).await.unwrap();
    assert_eq!(code, ExitCode::from(2));

    // Nothing on stdin, and something that is not an id.
    for given in ["", "yamada-san\n"] {
        let lookup = Lookup::from_args(&args(), &mut given.as_bytes()).unwrap();
        let mut out = Vec::new();
        let code = household::export(&ops, &lookup, now, &mut out)
            .await
            .unwrap();
        assert_eq!(code, ExitCode::from(2));
        assert!(out.is_empty(), "no JSON for a refused export");
    }

    // A file holding the id works.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("id.txt");
    std::fs::write(&file, format!("{parent}\n")).unwrap();
    let mut from_file = args();
    from_file.user_file = Some(file);
    let lookup = Lookup::from_args(&from_file, &mut "".as_bytes()).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        household::show(&ops, &lookup, now, &mut out).await.unwrap(),
        ExitCode::SUCCESS
    );

    // Every use was audited, refusals included; no record carries the id.
    let mut out = Vec::new();
    household::audit(&ops, &args().municipality, &mut out)
        .await
        .unwrap();
    let trail = text(out);
    assert!(trail.contains("6 record(s)"), "{trail}");
    assert_eq!(trail.matches("refused:").count(), 5, "{trail}");
    let audit_items: Vec<String> = every_table(&ops)
        .await
        .lines()
        .filter(|l| l.contains("audit#"))
        .map(str::to_owned)
        .collect();
    assert_eq!(audit_items.len(), 6);
    for item in &audit_items {
        assert!(!item.contains(&parent), "{item}");
        assert!(
            !item.contains("expires_at"),
            "audit records have no TTL: {item}"
        );
    }
}
