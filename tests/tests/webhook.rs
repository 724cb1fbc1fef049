//! The webhook over HTTP on the local stack: real DynamoDB calls against moto, replies checked by
//! the contract-enforcing fake LINE. Each test says what each input gets.

use chrono::NaiveDate;
use kizuna_core::{RegistrationStatus, Subject};
use kizuna_tests::stack::*;
use serde_json::json;

use kizuna_core::testing::date as d;

const TODAY: (i32, u32, u32) = (2027, 1, 10);

fn today() -> NaiveDate {
    d(TODAY.0, TODAY.1, TODAY.2)
}

#[tokio::test]
async fn a_whole_conversation_is_stored_and_answered() {
    let stack = stack_on(today()).await;
    let parent = Parent::new(&stack, "kizuna-town", user(1));

    // follow → the privacy notice; nothing but the follow state is stored
    let notice = parent.follow().await;
    assert!(joined(&notice).contains("きずな町"), "{}", joined(&notice));
    assert!(find_button(&notice, "登録しない").is_some());
    let household = stack.household(&parent.town, &parent.user).await.unwrap();
    assert!(household.following);
    assert!(household.registrations.is_empty());
    assert!(household.consent.is_none());

    // 同意して登録する → consent recorded (version, day) → welcome with date pickers
    let welcome = parent.tap(&notice, AGREE_LABEL, None).await;
    let household = stack.household(&parent.town, &parent.user).await.unwrap();
    let consent = household.consent.expect("consent recorded");
    assert_eq!(consent.policy_version, "1");
    assert_eq!(consent.agreed_on, today());

    // date picker → pregnancy registered, confirmation says what and when
    let confirmed = parent
        .tap(&welcome, "出産予定日を選ぶ", Some(d(2027, 2, 1)))
        .await;
    let text = joined(&confirmed);
    assert!(text.contains("7時"), "{text}");
    let household = stack.household(&parent.town, &parent.user).await.unwrap();
    assert_eq!(household.registrations.len(), 1);
    assert_eq!(
        household.registrations[0].subject,
        Subject::Pregnancy {
            due_date: d(2027, 2, 1)
        }
    );

    // 生まれました → birth date picker → the pregnancy becomes a child (born early)
    let asked = parent.say("生まれました").await;
    let born = parent
        .tap(&asked, "生まれた日を選ぶ", Some(d(2027, 1, 8)))
        .await;
    assert!(!born.is_empty());
    let household = stack.household(&parent.town, &parent.user).await.unwrap();
    assert_eq!(
        household.registrations[0].subject,
        Subject::Child {
            birth_date: d(2027, 1, 8),
            due_date: Some(d(2027, 2, 1))
        }
    );

    // 停止 → paused; 再開 → resumed
    parent.say("停止").await;
    assert!(
        stack
            .household(&parent.town, &parent.user)
            .await
            .unwrap()
            .paused
    );
    parent.say("再開").await;
    assert!(
        !stack
            .household(&parent.town, &parent.user)
            .await
            .unwrap()
            .paused
    );

    // 削除 → confirmation → 削除する → nothing stored any more
    let asked = parent.say("削除").await;
    assert!(stack.household(&parent.town, &parent.user).await.is_some());
    let done = parent.tap(&asked, "削除する", None).await;
    assert!(joined(&done).contains("削除しました"), "{}", joined(&done));
    assert!(stack.household(&parent.town, &parent.user).await.is_none());

    // LINE's contract held for every reply.
    assert!(
        stack.line.contract_violations().is_empty(),
        "{:#?}",
        stack.line.contract_violations()
    );
}

#[tokio::test]
async fn typed_dates_register_and_implausible_ones_are_refused() {
    let stack = stack_on(today()).await;
    let parent = Parent::new(&stack, "kizuna-town", user(2));
    parent.follow_and_agree().await;

    // An impossible date: a helpful reply, nothing stored.
    let refused = parent.say("2027/2/30").await;
    assert!(!refused.is_empty());
    assert!(stack
        .household(&parent.town, &parent.user)
        .await
        .unwrap()
        .registrations
        .is_empty());

    // The Reiwa form parents type.
    parent.say("令和9年7月1日").await;
    let household = stack.household(&parent.town, &parent.user).await.unwrap();
    assert_eq!(
        household.registrations[0].subject,
        Subject::Pregnancy {
            due_date: d(2027, 7, 1)
        }
    );
}

#[tokio::test]
async fn ending_everything_after_a_loss_stops_all_registrations_gently() {
    let stack = stack_on(today()).await;
    let parent = Parent::new(&stack, "kizuna-town", user(3));
    let welcome = parent.follow_and_agree().await;
    parent
        .tap(&welcome, "出産予定日を選ぶ", Some(d(2027, 6, 1)))
        .await;

    let asked = parent.say("配信をすべて終了").await;
    let button = find_button(&asked, "終了する").expect("a soft confirmation");
    assert!(button["data"].as_str().unwrap().starts_with("kizuna:"));
    let ended = parent.tap(&asked, "終了する", None).await;
    let text = joined(&ended);
    assert!(!text.contains('!') && !text.contains('！'), "{text}");
    let household = stack.household(&parent.town, &parent.user).await.unwrap();
    assert!(household
        .registrations
        .iter()
        .all(|r| matches!(r.status, RegistrationStatus::Ended { .. })));
    assert!(!household.receives_messages());
}

#[tokio::test]
async fn unfollow_stops_sends_and_refollow_asks_before_resuming() {
    let stack = stack_on(today()).await;
    let parent = Parent::new(&stack, "kizuna-town", user(4));
    let welcome = parent.follow_and_agree().await;
    parent
        .tap(&welcome, "出産予定日を選ぶ", Some(d(2027, 6, 1)))
        .await;

    parent.unfollow().await;
    let household = stack.household(&parent.town, &parent.user).await.unwrap();
    assert!(!household.following);
    assert!(!household.receives_messages());
    assert_eq!(household.unfollowed_on, Some(today()));

    let token = stack.reply_token(&parent.user);
    let (status, _) = stack
        .post_events(
            &parent.town,
            vec![fake_line::webhook::follow_event(&parent.user, &token, true)],
        )
        .await;
    assert_eq!(status, 200);
    let household = stack.household(&parent.town, &parent.user).await.unwrap();
    assert!(household.following);
    assert!(
        !household.receives_messages(),
        "nothing is sent until the parent says yes"
    );
    let asked = stack.replies_to(&parent.user).pop().unwrap();
    parent.tap(&asked, "再開する", None).await;
    assert!(stack
        .household(&parent.town, &parent.user)
        .await
        .unwrap()
        .receives_messages());
}

#[tokio::test]
async fn bad_requests_get_clear_answers_and_change_nothing() {
    let stack = stack_on(today()).await;
    let town = town_id("kizuna-town");
    let secret = stack.town(&town).channel.channel_secret.clone();
    let bot = stack.town(&town).channel.bot_user_id.clone();
    let u = user(5);
    let token = stack.reply_token(&u);
    let follow = fake_line::webhook::follow_event(&u, &token, false);
    let signed = fake_line::webhook::signed_body(&secret, &bot, vec![follow.clone()]);

    // Missing signature → 401.
    let (status, _) = stack
        .post_raw("kizuna-town", signed.body.clone(), None)
        .await;
    assert_eq!(status, 401);
    // Wrong signature (signed with another secret) → 401.
    let forged = fake_line::webhook::signed_body("not-the-secret", &bot, vec![follow.clone()]);
    let (status, _) = stack
        .post_raw("kizuna-town", signed.body.clone(), Some(&forged.signature))
        .await;
    assert_eq!(status, 401);
    // A valid signature over a different body → 401.
    let other_body =
        fake_line::webhook::signed_body(&secret, &bot, vec![follow.clone(), follow.clone()]);
    let (status, _) = stack
        .post_raw(
            "kizuna-town",
            other_body.body.clone(),
            Some(&signed.signature),
        )
        .await;
    assert_eq!(status, 401);
    // Unknown municipality → 404 (and an invalid id, too).
    let (status, _) = stack
        .post_raw("no-such-town", signed.body.clone(), Some(&signed.signature))
        .await;
    assert_eq!(status, 404);
    let (status, _) = stack
        .post_raw("NO_SUCH", signed.body.clone(), Some(&signed.signature))
        .await;
    assert_eq!(status, 404);
    // Malformed JSON with a valid signature → 400.
    let garbage = b"{\"destination\": \"x\", \"events\": [".to_vec();
    let sig = fake_line::webhook::sign(&secret, &garbage);
    let (status, _) = stack.post_raw("kizuna-town", garbage, Some(&sig)).await;
    assert_eq!(status, 400);
    // Over 1 MB → 413.
    let huge = vec![b' '; 1024 * 1024 + 1];
    let sig = fake_line::webhook::sign(&secret, &huge);
    let (status, _) = stack.post_raw("kizuna-town", huge, Some(&sig)).await;
    assert_eq!(status, 413);
    // Another bot's destination → 200, ignored.
    let other = fake_line::webhook::signed_body(&secret, &user(999), vec![follow.clone()]);
    let (status, _) = stack
        .post_raw("kizuna-town", other.body, Some(&other.signature))
        .await;
    assert_eq!(status, 200);

    // None of it stored anything or answered anyone.
    assert!(stack.household(&town, &u).await.is_none());
    assert!(stack.replies_to(&u).is_empty());

    // An empty event list (the console's "Verify") → 200.
    let verify = fake_line::webhook::signed_body(&secret, &bot, vec![]);
    let (status, _) = stack
        .post_raw("kizuna-town", verify.body, Some(&verify.signature))
        .await;
    assert_eq!(status, 200);
    // The header name is matched case-insensitively: written as `X-LINE-Signature` on the wire.
    let status = post_with_header(
        &stack.webhook_base,
        "/webhook/kizuna-town",
        "X-LINE-Signature",
        &signed.signature,
        &signed.body,
    )
    .await;
    assert_eq!(status, 200);
    assert!(stack.household(&town, &u).await.is_some());
}

#[tokio::test]
async fn a_replayed_event_has_one_effect_in_sequence_and_concurrently() {
    let stack = stack_on(today()).await;
    let town = town_id("kizuna-town");
    let parent = Parent::new(&stack, "kizuna-town", user(6));
    let welcome = parent.follow_and_agree().await;
    let picker = find_button(&welcome, "出産予定日を選ぶ").unwrap();
    let token = stack.reply_token(&parent.user);
    let event = fake_line::webhook::postback_event(
        &parent.user,
        &token,
        picker["data"].as_str().unwrap(),
        Some(json!({ "date": "2027-06-01" })),
    );

    // One after the other: LINE's redelivery of the same webhookEventId.
    let (a, _) = stack.post_events(&town, vec![event.clone()]).await;
    let (b, _) = stack
        .post_events(&town, vec![fake_line::webhook::redelivered(event.clone())])
        .await;
    assert_eq!((a, b), (200, 200));
    let household = stack.household(&town, &parent.user).await.unwrap();
    assert_eq!(household.registrations.len(), 1);
    let version_after_first = household.version;

    // Concurrently: a second event delivered twice at once.
    let token = stack.reply_token(&parent.user);
    let add = fake_line::webhook::text_message_event(&parent.user, &token, "停止");
    let (x, y) = tokio::join!(
        stack.post_events(&town, vec![add.clone()]),
        stack.post_events(&town, vec![add.clone()]),
    );
    // One of them is handled; the other is either a duplicate (200) or, if it arrived while
    // the first was in progress, answered 500 so that LINE redelivers it later.
    assert!(x.0 == 200 || y.0 == 200, "{x:?} {y:?}");
    let household = stack.household(&town, &parent.user).await.unwrap();
    assert!(household.paused);
    assert_eq!(
        household.version,
        version_after_first + 1,
        "exactly one effect"
    );
    // One reply for the pause, not two (a reply token is single-use anyway).
    let pause_replies = stack
        .replies_to(&parent.user)
        .iter()
        .filter(|r| joined(r).contains("停止"))
        .count();
    assert_eq!(pause_replies, 1);
}

type Forwarded = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// The town's other webhook service, standing in for a chatbot behind the same channel:
/// its URL and what it received (signature, body).
async fn forward_sink() -> (String, Forwarded) {
    let received: Forwarded = Default::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let sink = sink.clone();
                async move {
                    let sig = headers
                        .get("x-line-signature")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    sink.lock().unwrap().push((sig, body.to_vec()));
                    "ok"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), received)
}

#[tokio::test]
async fn texts_that_are_not_ours_get_no_reply_and_are_forwarded() {
    let (url, received) = forward_sink().await;
    let mut town = kizuna_town();
    town.municipality.forward_webhook_url = Some(url);
    let stack = stack_with(vec![town], Default::default()).await;
    stack.set_japan_time(today(), 12, 0);
    let parent = Parent::new(&stack, "kizuna-town", user(7));

    let reply = parent.say("ゴミの収集日を教えて").await;
    assert!(reply.is_empty(), "no reply in a shared account: {reply:?}");
    let forwarded = received.lock().unwrap().clone();
    assert_eq!(forwarded.len(), 1);
    // Forwarded unchanged: the downstream verifies the original signature with the same secret.
    let secret = &stack.towns[0].channel.channel_secret;
    let (sig, body) = &forwarded[0];
    assert!(kizuna_line_webhook::signature::verify(
        secret.as_bytes(),
        body,
        sig
    ));

    // Our own commands are consumed, not forwarded.
    parent.say("ヘルプ").await;
    assert_eq!(received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn standby_events_send_nothing_and_change_nothing() {
    let stack = stack_on(today()).await;
    let town = town_id("kizuna-town");
    let u = user(8);
    let token = stack.reply_token(&u);
    let mut follow = fake_line::webhook::follow_event(&u, &token, false);
    follow["mode"] = json!("standby");
    let (status, _) = stack.post_events(&town, vec![follow]).await;
    assert_eq!(status, 200);
    assert!(stack.household(&town, &u).await.is_none());
    assert!(stack.replies_to(&u).is_empty());
}

/// A town's account may be added to group chats and multi-person chats. There, nothing acts
/// on a parent's data and nothing is replied (a reply to 登録内容 would show a due date to the
/// whole group); the events are the town's other services' business and are forwarded
/// unchanged. A group member who never followed gets no household either.
#[tokio::test]
async fn group_and_room_events_change_nothing_and_get_no_reply() {
    use fake_line::webhook::{in_group, in_room, postback_event, text_message_event};
    let (url, received) = forward_sink().await;
    let mut town = kizuna_town();
    town.municipality.forward_webhook_url = Some(url);
    let stack = stack_with(vec![town], Default::default()).await;
    stack.set_japan_time(today(), 12, 0);
    let town = town_id("kizuna-town");
    let parent = Parent::new(&stack, "kizuna-town", user(30));
    parent.register("2027/6/1").await;
    let stranger = user(31);
    let tables = [
        stack.config.tables.households.clone(),
        stack.config.tables.deliveries.clone(),
    ];
    let mut before = Vec::new();
    for table in &tables {
        before.push(table_snapshot(&stack, table).await);
    }
    let replies_before = stack.line.recorded_replies().len();
    let forwarded_before = received.lock().unwrap().len();

    let said = [
        "登録内容",
        "変更",
        "生まれました",
        "追加",
        "停止",
        "再開",
        "削除",
        "削除する",
        "配信をすべて終了",
        "ヘルプ",
        "個人情報",
        "2027/6/1",
        "令和9年5月1日",
    ];
    let mut events = 0;
    for (who, text) in [&parent.user, &stranger]
        .into_iter()
        .flat_map(|u| said.iter().map(move |t| (u, *t)))
    {
        let token = stack.reply_token(who);
        for event in [
            in_group(
                text_message_event(who, &token, text),
                "Cgroup0000000000000000000000000001",
            ),
            in_room(
                text_message_event(who, &token, text),
                "Rroom00000000000000000000000000001",
            ),
        ] {
            let (status, body) = stack.post_events(&town, vec![event]).await;
            assert_eq!(status, 200, "{text:?} in a group: {body}");
            events += 1;
        }
    }
    // A button tapped in a group (a message forwarded there) does nothing either.
    let token = stack.reply_token(&parent.user);
    let tap = in_group(
        postback_event(&parent.user, &token, "kizuna:v1:delete", None),
        "Cgroup0000000000000000000000000001",
    );
    assert_eq!(stack.post_events(&town, vec![tap]).await.0, 200);
    events += 1;

    for (table, before) in tables.iter().zip(&before) {
        assert_eq!(
            &table_snapshot(&stack, table).await,
            before,
            "{table} changed"
        );
    }
    assert!(stack.household(&town, &stranger).await.is_none());
    assert_eq!(
        stack.line.recorded_replies().len(),
        replies_before,
        "no reply into a group or room"
    );
    assert_eq!(
        received.lock().unwrap().len() - forwarded_before,
        events,
        "every group/room event is forwarded to the town's other service"
    );
}

/// Consent through signed webhooks on moto: declining stores nothing but the follow state
/// (a date typed afterwards neither); a new version of the town's notice is shown at the
/// parent's next request, 停止 still works meanwhile, and declining it erases everything.
#[tokio::test]
async fn consent_is_asked_before_storing_and_again_when_the_town_changes_its_notice() {
    use kizuna_app::ports::MunicipalityDirectory;
    let stack = stack_on(today()).await;
    let town = town_id("kizuna-town");

    // 登録しない: nothing but the follow state; a typed date is not stored either.
    let declining = Parent::new(&stack, "kizuna-town", user(40));
    let notice = declining.follow().await;
    declining.tap(&notice, "登録しない", None).await;
    let reply = declining.say("2027/6/1").await;
    assert!(find_button(&reply, AGREE_LABEL).is_some(), "asked again");
    let household = stack.household(&town, &declining.user).await.unwrap();
    assert!(household.registrations.is_empty() && household.consent.is_none());

    // Agreed to version 1 and registered.
    let parent = Parent::new(&stack, "kizuna-town", user(41));
    parent.register("2027/6/1").await;
    assert_eq!(
        stack
            .household(&town, &parent.user)
            .await
            .unwrap()
            .consent
            .unwrap()
            .policy_version,
        "1"
    );

    // The town publishes version 2 of its notice.
    let directory = kizuna_aws::compose::municipalities(&stack.config, &stack.clients);
    let mut record = directory.get(&town).await.unwrap().unwrap();
    record.privacy_policy_version = "2".into();
    record.privacy_url = Some("https://example.jp/kizuna/privacy".into());
    directory.put(&record).await.unwrap();

    // The next request gets the new notice instead; nothing is recorded until answered.
    let asked = parent.say("登録内容").await;
    assert!(joined(&asked).contains("https://example.jp/kizuna/privacy"));
    assert!(find_button(&asked, "同意する").is_some());
    assert!(find_button(&asked, "同意しない").is_some());
    let household = stack.household(&town, &parent.user).await.unwrap();
    assert_eq!(household.consent.as_ref().unwrap().policy_version, "1");
    assert!(household.receives_messages(), "sends go on meanwhile");

    // Stopping is never blocked by the question.
    parent.say("停止").await;
    assert!(stack.household(&town, &parent.user).await.unwrap().paused);

    // 同意しない to the new notice erases everything, as 削除する does.
    let asked = parent.say("再開").await;
    parent.tap(&asked, "同意しない", None).await;
    assert!(stack.household(&town, &parent.user).await.is_none());

    // Another parent agrees to version 2: recorded with the day.
    let other = Parent::new(&stack, "kizuna-town", user(42));
    other.register("2027/6/1").await;
    let consent = stack
        .household(&town, &other.user)
        .await
        .unwrap()
        .consent
        .unwrap();
    assert_eq!(
        (consent.policy_version.as_str(), consent.agreed_on),
        ("2", today())
    );
}

/// 削除 → 削除する leaves nothing of the parent in any table: the household, and the delivery
/// ledger items of the messages they already received (their keys name the user and the day).
#[tokio::test]
async fn deleting_leaves_nothing_of_the_parent_in_any_table() {
    let stack = stack_on(today()).await;
    let parent = Parent::new(&stack, "kizuna-town", user(50));
    parent.register("2027/6/1").await;
    // Today's message is sent, so the ledger holds an item for this parent.
    stack.run_day(today()).await.unwrap();
    assert_eq!(stack.pushes_to(&parent.user).len(), 1);
    let ledger = table_snapshot(&stack, &stack.config.tables.deliveries).await;
    assert!(ledger.iter().any(|item| item.contains(&parent.user)));

    let asked = parent.say("削除").await;
    parent.tap(&asked, "削除する", None).await;
    for table in [
        &stack.config.tables.households,
        &stack.config.tables.deliveries,
        &stack.config.tables.events,
        &stack.config.tables.municipalities,
    ] {
        let items = table_snapshot(&stack, table).await;
        assert!(
            items.iter().all(|item| !item.contains(&parent.user)),
            "{table} still holds the parent's id after 削除"
        );
    }
}

/// 今日のメッセージ answers, free through the reply API, with exactly the push the day's
/// fan-out sends (two registrations: labelled texts); while paused it says so above the same
/// texts; ヘルプ describes the pack's schedule.
#[tokio::test]
async fn todays_message_on_request_is_the_push_of_the_day() {
    let stack = stack_on(today()).await;
    let parent = Parent::new(&stack, "kizuna-town", user(60));
    parent.register("2027/7/22").await; // 妊娠12週3日
    parent.say("追加").await;
    parent.say("2026/12/4").await; // 生後37日
    let pushes_before = stack.line.recorded_pushes().len();

    let reply = parent.say("今日のメッセージ").await;
    assert_eq!(
        stack.line.recorded_pushes().len(),
        pushes_before,
        "a reply, not a (counted) push"
    );
    let help = joined(&parent.say("ヘルプ").await);
    assert!(help.contains("2歳までは週に1回"), "{help}");

    parent.say("停止").await;
    let paused = parent.say("きょうの メッセージ").await;
    parent.say("再開").await;

    stack.run_day(today()).await.unwrap();
    let pushes = stack.pushes_to(&parent.user);
    assert_eq!(pushes.len(), 1);
    let pushed = kizuna_local::texts(&pushes[0]);
    assert_eq!(pushed.len(), 2, "one text per registration: {pushed:?}");
    assert!(pushed.iter().all(|t| t.starts_with('【')), "{pushed:?}");
    assert_eq!(kizuna_local::texts(&reply), pushed);

    let paused = kizuna_local::texts(&paused);
    assert!(paused[0].contains("停止中"), "{paused:?}");
    assert_eq!(paused[1..], pushed[..]);
    assert!(stack.line.contract_violations().is_empty());
}

/// A parent who reads English, through signed webhooks: English chosen from the first notice,
/// the notice again in English, agreement, a due date, status, stop and resume all in English,
/// and that day's push in English where the sample has English text (week 5), Japanese where it
/// does not (week 6).
#[tokio::test]
async fn a_whole_journey_in_english() {
    use kizuna_core::Language;
    let stack = stack_on(today()).await;
    let parent = Parent::new(&stack, "kizuna-town", user(60));

    // follow → the Japanese notice, offering English and やさしい にほんご
    let notice = parent.follow().await;
    assert!(joined(&notice).contains("English / やさしい にほんご は「言語」と おくってください。"));

    // English → saved (nothing else), confirmed in English, the notice again in English
    let english = parent.tap(&notice, "English", None).await;
    let text = joined(&english);
    assert!(text.contains("we will write to you in English"), "{text}");
    assert!(text.contains("[What we store]"), "{text}");
    assert!(text.contains("180 days"), "{text}");
    let household = stack.household(&parent.town, &parent.user).await.unwrap();
    assert_eq!(household.language, Language::English);
    assert!(household.consent.is_none() && household.registrations.is_empty());

    // Agree and register → consent recorded → asked for a date in English
    let welcome = parent.tap(&english, "Agree and register", None).await;
    assert!(joined(&welcome).contains("Thank you for agreeing"));
    assert!(stack
        .household(&parent.town, &parent.user)
        .await
        .unwrap()
        .consent
        .is_some());

    // Due 12 September 2027: today (10 January) is 5w0d, a day the English sample covers.
    let registered = parent
        .tap(&welcome, "Choose due date", Some(d(2027, 9, 12)))
        .await;
    let text = joined(&registered);
    assert!(
        text.contains("You are registered.\nDue date 12 September 2027 (5 weeks 0 days pregnant)"),
        "{text}"
    );

    // status / stop / resume, typed in English
    let status = parent.say("status").await;
    assert!(
        joined(&status).contains("Your registration:"),
        "{}",
        joined(&status)
    );
    let stopped = parent.say("stop").await;
    assert!(joined(&stopped).contains("Messages are paused"));
    assert!(
        stack
            .household(&parent.town, &parent.user)
            .await
            .unwrap()
            .paused
    );
    let resumed = parent.say("Resume").await;
    assert!(joined(&resumed).contains("Messages have started again"));
    assert!(
        !stack
            .household(&parent.town, &parent.user)
            .await
            .unwrap()
            .paused
    );

    // A second English reader at 6w0d, which has no English text: Japanese.
    let other = Parent::new(&stack, "kizuna-town", user(61));
    let notice = other.follow().await;
    let english = other.tap(&notice, "English", None).await;
    let welcome = other.tap(&english, "Agree and register", None).await;
    other
        .tap(&welcome, "Choose due date", Some(d(2027, 9, 5)))
        .await;

    // The day's pushes.
    stack.run_day(today()).await.unwrap();
    let pushes = stack.pushes_to(&parent.user);
    assert_eq!(pushes.len(), 1);
    assert!(
        joined(&pushes[0]).starts_with("You are now in week 5."),
        "{}",
        joined(&pushes[0])
    );
    let pushes = stack.pushes_to(&other.user);
    assert_eq!(pushes.len(), 1);
    assert!(
        joined(&pushes[0]).starts_with("妊娠6週に入りました。"),
        "{}",
        joined(&pushes[0])
    );

    assert!(
        stack.line.contract_violations().is_empty(),
        "{:#?}",
        stack.line.contract_violations()
    );
}

/// The town's funnel counts follows and blocks from the webhook events themselves: a follower
/// who never agrees to the notice leaves no registration but is a new friend. Each event
/// counts once, however often LINE delivers it.
#[tokio::test]
async fn follows_and_blocks_are_counted_once_per_event_for_the_funnel() {
    use kizuna_app::model::FollowCounts;
    use kizuna_app::ports::FollowTally;
    let stack = stack_on(today()).await;
    let town = town_id("kizuna-town");
    let tally = kizuna_aws::compose::follows(&stack.config, &stack.clients);
    let counts = || async { tally.counts(&town, &[today()]).await.unwrap()[0] };
    assert_eq!(counts().await, FollowCounts::default());

    let u = user(30);
    let follow = fake_line::webhook::follow_event(&u, &stack.reply_token(&u), false);
    // Delivered, redelivered, and delivered twice more at once: one new friend.
    let (a, _) = stack.post_events(&town, vec![follow.clone()]).await;
    let (b, _) = stack
        .post_events(&town, vec![fake_line::webhook::redelivered(follow.clone())])
        .await;
    let again = fake_line::webhook::redelivered(follow.clone());
    let (x, y) = tokio::join!(
        stack.post_events(&town, vec![again.clone()]),
        stack.post_events(&town, vec![again.clone()]),
    );
    assert_eq!((a, b), (200, 200));
    assert!(x.0 == 200 || y.0 == 200, "{x:?} {y:?}");
    assert_eq!(counts().await.new_friends, 1);
    // Never agreed to anything: no registration is stored, yet the follow is counted.
    assert!(stack
        .household(&town, &u)
        .await
        .is_none_or(|h| h.registrations.is_empty()));

    // The block, twice; then the unblock (a follow with isUnblocked), twice.
    let block = fake_line::webhook::unfollow_event(&u);
    for event in [block.clone(), fake_line::webhook::redelivered(block)] {
        assert_eq!(stack.post_events(&town, vec![event]).await.0, 200);
    }
    let unblock = fake_line::webhook::follow_event(&u, &stack.reply_token(&u), true);
    for event in [unblock.clone(), fake_line::webhook::redelivered(unblock)] {
        assert_eq!(stack.post_events(&town, vec![event]).await.0, 200);
    }
    assert_eq!(
        counts().await,
        FollowCounts {
            new_friends: 1,
            unblocked: 1,
            unfollowed: 1
        }
    );
    // A second parent's follow is a second new friend; messages are not follows.
    let v = user(31);
    parent_follows(&stack, &v).await;
    assert_eq!(counts().await.new_friends, 2);
}

async fn parent_follows(stack: &kizuna_local::LocalStack, u: &str) {
    let parent = Parent::new(stack, "kizuna-town", u.to_owned());
    parent.follow_and_agree().await;
    parent.say("ヘルプ").await;
}
