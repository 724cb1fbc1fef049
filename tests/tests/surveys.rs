//! Surveys end to end, on moto and the fake LINE: the sample pack's survey
//! (`content/surveys/messages-2027.toml`: open 2027-10-01 to 11-30, babies 60–180 days old)
//! rides once on the day's push, as its last object, within five objects and one counted
//! message; its answers come back through the webhook and are stored once under LINE's
//! redelivery and under two taps at once; 削除 erases them with the household.

use kizuna_app::ports::HouseholdStore as _;
use kizuna_aws::compose;
use kizuna_core::survey::{Answer, SurveyId};
use kizuna_core::testing::date as d;
use kizuna_core::{Household, LineUserId, Registration, RegistrationStatus, Subject};
use kizuna_tests::stack::*;
use serde_json::Value;

fn survey() -> SurveyId {
    SurveyId::parse("messages-2027").unwrap()
}

fn q(id: &str) -> SurveyId {
    SurveyId::parse(id).unwrap()
}

/// A parent who followed, agreed and registered a baby born 2027-08-01, on 2027-09-20.
async fn registered_parent<'a>(stack: &'a kizuna_local::LocalStack, n: u32) -> Parent<'a> {
    let parent = Parent::new(stack, "kizuna-town", user(n));
    let welcome = parent.follow_and_agree().await;
    parent
        .tap(&welcome, "生年月日を選ぶ", Some(d(2027, 8, 1)))
        .await;
    let household = stack
        .household(&parent.town, &parent.user)
        .await
        .expect("registered");
    assert_eq!(household.registrations.len(), 1);
    parent
}

/// The quick-reply postback data of the last object of `push`.
fn last_object_buttons(push: &[Value]) -> Vec<(String, String)> {
    push.last().unwrap()["quickReply"]["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    (
                        i["action"]["label"].as_str().unwrap().to_owned(),
                        i["action"]["data"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn invitations(push: &[Value]) -> usize {
    push.iter()
        .filter(|m| {
            m["text"]
                .as_str()
                .unwrap_or_default()
                .contains("【メッセージについてのアンケート】")
        })
        .count()
}

#[tokio::test]
async fn a_survey_rides_once_on_the_push_as_its_last_object_within_five_objects_and_one_counted_message(
) {
    let stack = stack_on(d(2027, 9, 20)).await;
    let town = town_id("kizuna-town");
    let parent = registered_parent(&stack, 1).await;
    // Quintuplets registered one by one (five registrations): five programme messages a day.
    let mut five = Household::new(town.clone(), LineUserId::parse(&user(2)).unwrap());
    five.registrations = (1..=5)
        .map(|id| Registration {
            id,
            subject: Subject::Child {
                birth_date: d(2027, 8, 1),
                due_date: None,
            },
            baby_count: 1,
            status: RegistrationStatus::Active,
            registered_on: d(2027, 8, 1),
        })
        .collect();
    compose::households(&stack.config, &stack.clients)
        .save(&five)
        .await
        .unwrap();
    let channel = stack.towns[0].channel.channel_id.clone();

    // Child day 60 on 2027-09-30: in the window, but the survey opens the next day.
    stack.run_day(d(2027, 9, 30)).await.unwrap();
    let counted_before = stack.line.counted_messages(&channel);
    assert_eq!(counted_before, 2, "one counted message per household");
    for n in [1, 2] {
        assert_eq!(invitations(&stack.pushes_to(&user(n))[0]), 0);
    }

    // 2027-10-01: the survey's first day, child day 61.
    stack.run_day(d(2027, 10, 1)).await.unwrap();
    assert_eq!(
        stack.line.counted_messages(&channel) - counted_before,
        2,
        "the invitation adds no counted message"
    );
    for n in [1, 2] {
        let pushes = stack.pushes_to(&user(n));
        assert_eq!(pushes.len(), 2, "one push a day");
        let push = &pushes[1];
        assert!(push.len() <= 5, "{push:#?}");
        assert_eq!(invitations(push), 1, "{push:#?}");
        assert!(
            push.last().unwrap()["text"]
                .as_str()
                .unwrap()
                .starts_with("【メッセージについてのアンケート】"),
            "the invitation is the last object"
        );
        assert_eq!(
            last_object_buttons(push),
            [
                (
                    "研究に使ってよい".to_owned(),
                    "kizuna:v1:sv:messages-2027:research-consent:yes".to_owned()
                ),
                (
                    "研究には使わないで".to_owned(),
                    "kizuna:v1:sv:messages-2027:research-consent:no".to_owned()
                ),
            ]
        );
        for earlier in &push[..push.len() - 1] {
            assert!(earlier.get("quickReply").is_none());
        }
    }
    assert_eq!(
        stack.pushes_to(&user(2))[1].len(),
        5,
        "five objects, not six"
    );

    // The next day: the programme message alone.
    stack.run_day(d(2027, 10, 2)).await.unwrap();
    for n in [1, 2] {
        assert_eq!(
            invitations(&stack.pushes_to(&user(n))[2]),
            0,
            "once per household"
        );
    }
    assert!(stack.line.contract_violations().is_empty());
    let _ = parent;
}

#[tokio::test]
async fn answers_are_recorded_once_under_a_redelivered_event_and_both_of_two_concurrent_taps_are_kept(
) {
    let stack = stack_on(d(2027, 9, 20)).await;
    let town = town_id("kizuna-town");
    let parent = registered_parent(&stack, 3).await;
    stack.run_day(d(2027, 10, 1)).await.unwrap();
    let push = stack.pushes_to(&parent.user).pop().unwrap();
    let (_, consent) = last_object_buttons(&push)[0].clone();

    // The consent tap, then LINE's redelivery of the very same event.
    let token = stack.reply_token(&parent.user);
    let event = fake_line::webhook::postback_event(&parent.user, &token, &consent, None);
    let (first, _) = stack.post_events(&town, vec![event.clone()]).await;
    assert_eq!(first, 200);
    let after_first = stack.household(&town, &parent.user).await.unwrap();
    assert_eq!(after_first.surveys[&survey()].research_consent, Some(true));
    let replies_after_first = stack.replies_to(&parent.user).len();
    let reply = stack.replies_to(&parent.user).last().unwrap().clone();
    assert!(
        joined(&reply).contains("毎日のメッセージは"),
        "the next question: {reply:#?}"
    );

    let (again, _) = stack
        .post_events(&town, vec![fake_line::webhook::redelivered(event)])
        .await;
    assert_eq!(again, 200);
    let after_redelivery = stack.household(&town, &parent.user).await.unwrap();
    assert_eq!(
        after_redelivery.version, after_first.version,
        "no second effect"
    );
    assert_eq!(after_redelivery, after_first);
    assert_eq!(
        stack.replies_to(&parent.user).len(),
        replies_after_first,
        "no second reply"
    );

    // Two different answers tapped at once (two phones, or a quick double tap): both kept.
    let tap = |data: &str| {
        let token = stack.reply_token(&parent.user);
        fake_line::webhook::postback_event(&parent.user, &token, data, None)
    };
    let useful = tap("kizuna:v1:sv:messages-2027:useful:4");
    let talk = tap("kizuna:v1:sv:messages-2027:someone-to-talk-to:0");
    let (a, b) = tokio::join!(
        stack.post_events(&town, vec![useful.clone()]),
        stack.post_events(&town, vec![talk.clone()]),
    );
    // A tap answered 500 is redelivered by LINE: do what LINE does.
    for (status, event) in [(a.0, useful), (b.0, talk)] {
        if status != 200 {
            let (retried, _) = stack
                .post_events(&town, vec![fake_line::webhook::redelivered(event)])
                .await;
            assert_eq!(retried, 200);
        }
    }
    let household = stack.household(&town, &parent.user).await.unwrap();
    let response = &household.surveys[&survey()];
    assert_eq!(response.answers.len(), 2, "{response:?}");
    assert_eq!(response.answers[&q("useful")].answer, Answer::Scale(4));
    assert_eq!(
        response.answers[&q("someone-to-talk-to")].answer,
        Answer::Choice(0)
    );
    assert_eq!(response.research_consent, Some(true));
    assert_eq!(
        household.version,
        after_first.version + 2,
        "one write per tap"
    );
}

#[tokio::test]
async fn a_typed_answer_is_stored_and_deleting_erases_every_answer_with_the_household() {
    let stack = stack_on(d(2027, 9, 20)).await;
    let town = town_id("kizuna-town");
    let parent = registered_parent(&stack, 4).await;
    stack.run_day(d(2027, 10, 1)).await.unwrap();
    let push = stack.pushes_to(&parent.user).pop().unwrap();
    let scale = parent.tap(&push, "研究には使わないで", None).await;
    let choice = parent.tap(&scale, "5", None).await;
    let text_question = parent.tap(&choice, "ときどきいる", None).await;
    assert!(joined(&text_question).contains("200文字まで"));
    let thanks = parent.say("毎朝の楽しみです").await;
    assert!(joined(&thanks).starts_with("ご協力ありがとうございました。"));
    let response = stack.household(&town, &parent.user).await.unwrap().surveys[&survey()].clone();
    assert_eq!(response.research_consent, Some(false));
    assert_eq!(
        response.answers[&q("comment")].answer,
        Answer::Text("毎朝の楽しみです".into())
    );
    assert_eq!(response.stage_band.as_deref(), Some("child_0_2m"));

    let question = parent.say("削除").await;
    let done = parent.tap(&question, "削除する", None).await;
    assert!(!done.is_empty());
    assert!(
        stack.household(&town, &parent.user).await.is_none(),
        "answers gone with the household"
    );
}
