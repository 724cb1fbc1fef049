//! Surveys as content (`surveys/<id>.toml`): what `content check` accepts and refuses (with
//! `file:line`), and when the daily plan carries a survey's invitation.

mod plan_support;

use kizuna_core::content::{ContentLibrary, SourceFile};
use kizuna_core::message::{Action, MAX_MESSAGES_PER_REQUEST};
use kizuna_core::plan::{plan_household, PlannedKind};
use kizuna_core::survey::{
    Answer, AudienceWindow, QuestionKind, RecordedAnswer, SurveyId, SurveyResponse,
};
use kizuna_core::{Household, Message, MunicipalityId};
use plan_support::{child, d, file, household, minimal_base, pregnancy, sample};

const TOWN_TOML: &str = "display_name = \"きずな町\"\n";

/// A survey of children's days 10–20 in kizuna-town, open in 2027.
const SURVEY: &str = r#"title = "メッセージについてのアンケート"
opens_on = 2027-01-01
closes_on = 2027-12-31
invitation = "3つだけ質問させてください。"
thanks = "ありがとうございました。"

[audience]
municipalities = ["kizuna-town"]
child_days = [10, 20]

[[question]]
id = "useful"
type = "scale"
text = "役に立っていますか。"
low = "いいえ"
high = "とても"

[[question]]
id = "talk"
type = "choice"
text = "相談できる人はいますか。"
choices = ["いる", "いない"]

[[question]]
id = "comment"
type = "text"
text = "ご意見をどうぞ。"
max_chars = 50
"#;

/// The minimal base, the town's overlay and `surveys` (path, text); `sample_pack` marks the
/// pack as the sample.
fn files(surveys: &[(&str, &str)], sample_pack: bool) -> Vec<SourceFile> {
    let mut files = minimal_base(
        |day| format!("妊娠{day}"),
        |day| format!("[[child]]\nday = {day}\ntext = \"生後{day}\"\n"),
    );
    if sample_pack {
        files.retain(|f| f.path != "base/pack.toml");
        files.push(file(
            "base/pack.toml",
            "id = \"t\"\nversion = \"1\"\nsample = true\n",
        ));
    }
    files.push(file(
        "municipalities/kizuna-town/municipality.toml",
        TOWN_TOML,
    ));
    for (path, text) in surveys {
        files.push(file(path, text));
    }
    files
}

fn library(surveys: &[(&str, &str)], sample_pack: bool) -> ContentLibrary {
    ContentLibrary::from_files(files(surveys, sample_pack)).unwrap_or_else(|e| {
        panic!(
            "{}",
            e.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// Every error `content check` prints for the pack with `surveys`.
fn errors(surveys: &[(&str, &str)]) -> Vec<String> {
    let report = ContentLibrary::check_files(files(surveys, false));
    report.errors.iter().map(|d| d.to_string()).collect()
}

fn with(replace: &str, by: &str) -> String {
    assert!(SURVEY.contains(replace), "{replace}");
    SURVEY.replacen(replace, by, 1)
}

#[test]
fn a_valid_survey_is_in_the_library_with_its_audience_and_questions() {
    let lib = library(&[("surveys/messages-2027.toml", SURVEY)], false);
    let [survey] = lib.surveys() else {
        panic!("one survey: {:?}", lib.surveys())
    };
    assert_eq!(survey.id.as_str(), "messages-2027");
    assert_eq!(survey.title, "メッセージについてのアンケート");
    assert!(!survey.sample);
    assert_eq!(survey.opens_on, d(2027, 1, 1));
    assert_eq!(survey.closes_on, d(2027, 12, 31));
    assert_eq!(
        survey.audience.windows,
        vec![AudienceWindow::Child {
            first: 10,
            last: 20
        }]
    );
    assert!(survey
        .audience
        .municipalities
        .as_ref()
        .unwrap()
        .contains(&MunicipalityId::parse("kizuna-town").unwrap()));
    let kinds: Vec<&QuestionKind> = survey.questions.iter().map(|q| &q.kind).collect();
    assert_eq!(
        kinds,
        [
            &QuestionKind::Scale {
                low: "いいえ".into(),
                high: "とても".into()
            },
            &QuestionKind::Choice {
                choices: vec!["いる".into(), "いない".into()]
            },
            &QuestionKind::Text { max_chars: 50 },
        ]
    );
    // It survives the compiled artifact the sender loads.
    let back = ContentLibrary::from_artifact(&lib.to_artifact()).unwrap();
    assert_eq!(back.surveys(), lib.surveys());
}

#[test]
fn the_sample_pack_has_its_sample_survey_and_it_loads() {
    let lib = sample();
    let survey = lib
        .surveys()
        .iter()
        .find(|s| s.id.as_str() == "messages-2027")
        .expect("the sample survey");
    assert!(survey.sample, "the sample survey is marked sample = true");
    assert!(survey.questions.len() >= 2);
    let report = ContentLibrary::check_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content"),
    );
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(
        !report.warnings.iter().any(|w| w.path.contains("surveys/")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn survey_errors_name_the_file_and_line() {
    let cases: Vec<(String, String, &str)> = vec![
        (
            "surveys/Bad_Id.toml".into(),
            SURVEY.into(),
            "surveys/Bad_Id.toml:1: the file name is the survey's id: an id is 1 to 24 lowercase letters, digits or '-': \"Bad_Id\" (rename the file)",
        ),
        (
            "surveys/s.toml".into(),
            with("title = \"メッセージについてのアンケート\"", "title = \"  \""),
            "surveys/s.toml:1: title: empty text",
        ),
        (
            "surveys/s.toml".into(),
            with("closes_on = 2027-12-31", "closes_on = 2026-12-31"),
            "surveys/s.toml:3: closes_on 2026-12-31 is before opens_on 2027-01-01",
        ),
        (
            "surveys/s.toml".into(),
            with("[\"kizuna-town\"]", "[\"kizuna-town\", \"nowhere-town\"]"),
            "surveys/s.toml:8: \"nowhere-town\" is not a municipality of this pack (municipalities/ has kizuna-town)",
        ),
        (
            "surveys/s.toml".into(),
            with("child_days = [10, 20]", "stages = [\"20w0d\", \"12w0d\"]"),
            "surveys/s.toml:9: the window ends before it starts",
        ),
        (
            "surveys/s.toml".into(),
            with("id = \"useful\"", "id = \"research-consent\""),
            "surveys/s.toml:12: \"research-consent\" is the question Kizuna asks first in every survey: give this question another id",
        ),
        (
            "surveys/s.toml".into(),
            with("id = \"talk\"", "id = \"useful\""),
            "surveys/s.toml:19: duplicate question id \"useful\" (first defined at surveys/s.toml:12)",
        ),
        (
            "surveys/s.toml".into(),
            with("choices = [\"いる\", \"いない\"]", "choices = [\"いる\"]"),
            "surveys/s.toml:22: a choice question has 2 to 12 choices (one LINE button each), not 1",
        ),
        (
            "surveys/s.toml".into(),
            with("choices = [\"いる\", \"いない\"]", "choices = [\"いる\", \"いる\"]"),
            "surveys/s.toml:22: duplicate choice \"いる\"",
        ),
        (
            "surveys/s.toml".into(),
            with(
                "choices = [\"いる\", \"いない\"]",
                "choices = [\"いる\", \"とてもたくさんの人がいていつでも相談できる\"]",
            ),
            "surveys/s.toml:22: choice too long: 21 characters (at most 20)",
        ),
        (
            "surveys/s.toml".into(),
            with("max_chars = 50", "max_chars = 201"),
            "surveys/s.toml:28: max_chars must be 1 to 200, not 201",
        ),
        (
            "surveys/s.toml".into(),
            with("type = \"scale\"", "type = \"stars\""),
            "surveys/s.toml:13: unknown question type \"stars\": use \"choice\", \"scale\" or \"text\"",
        ),
        (
            "surveys/s.toml".into(),
            with("low = \"いいえ\"\n", ""),
            "surveys/s.toml:11: a scale question needs `low = \"...\"`: what 1 means",
        ),
        (
            "surveys/s.toml".into(),
            with("thanks = ", "thank_you = "),
            "surveys/s.toml:5: TOML error: unknown field `thank_you`",
        ),
    ];
    for (path, text, expected) in cases {
        let found = errors(&[(&path, &text)]);
        assert!(
            found.iter().any(|e| e.starts_with(expected)),
            "expected {expected:?} in {found:#?}"
        );
    }
    let no_questions = SURVEY.split("[[question]]").next().unwrap();
    assert_eq!(
        errors(&[("surveys/s.toml", no_questions)]),
        ["surveys/s.toml:1: a survey needs at least one [[question]] (the research-consent question is asked by Kizuna itself)"]
    );
    let thirteen: Vec<String> = (1..=13).map(|i| format!("\"{i}\"")).collect();
    let found = errors(&[(
        "surveys/s.toml",
        &with(
            "[\"いる\", \"いない\"]",
            &format!("[{}]", thirteen.join(", ")),
        ),
    )]);
    assert_eq!(
        found,
        ["surveys/s.toml:22: a choice question has 2 to 12 choices (one LINE button each), not 13"]
    );
}

#[test]
fn a_sample_survey_in_a_real_pack_is_a_warning_and_never_planned() {
    let sample_survey = with("title =", "sample = true\ntitle =");
    let report = ContentLibrary::check_files(files(&[("surveys/s.toml", &sample_survey)], false));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(
        report.warnings.iter().any(|w| w
            .to_string()
            .starts_with("surveys/s.toml:1: warning: a sample survey")),
        "{:?}",
        report.warnings
    );
    let real = library(&[("surveys/s.toml", &sample_survey)], false);
    let h = household(vec![child(1, d(2027, 3, 1))]);
    let day10 = d(2027, 3, 11);
    assert!(invitation(&plan(&real, &h, day10)).is_none());
    let demo = library(&[("surveys/s.toml", &sample_survey)], true);
    assert!(invitation(&plan(&demo, &h, day10)).is_some());
}

fn plan(
    lib: &ContentLibrary,
    h: &Household,
    date: chrono::NaiveDate,
) -> kizuna_core::plan::DailyPlan {
    plan_household(h, date, &lib.for_municipality(&h.municipality))
}

/// The invitation of a plan (its last object), if it has one, with its buttons' data.
fn invitation(plan: &kizuna_core::plan::DailyPlan) -> Option<(String, Vec<String>)> {
    let surveys: Vec<_> = plan
        .items
        .iter()
        .filter(|i| matches!(i.kind, PlannedKind::Survey { .. }))
        .collect();
    if surveys.is_empty() {
        return None;
    }
    assert_eq!(surveys.len(), 1, "one invitation at most");
    assert!(
        matches!(
            plan.items.last().map(|i| &i.kind),
            Some(PlannedKind::Survey { .. })
        ),
        "the invitation is the last item"
    );
    assert!(plan.messages.len() <= MAX_MESSAGES_PER_REQUEST);
    let Some(Message::Text {
        text,
        quick_reply: Some(quick),
    }) = plan.messages.last()
    else {
        panic!(
            "the last object carries the quick replies: {:?}",
            plan.messages
        )
    };
    for m in &plan.messages[..plan.messages.len() - 1] {
        assert!(
            matches!(
                m,
                Message::Text {
                    quick_reply: None,
                    ..
                }
            ),
            "only the last object has buttons"
        );
    }
    let data = quick
        .items
        .iter()
        .map(|i| match &i.action {
            Action::Postback { data, .. } => data.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    Some((text.clone(), data))
}

#[test]
fn the_invitation_goes_last_on_the_first_day_in_the_window_and_only_that_day() {
    let lib = library(&[("surveys/messages-2027.toml", SURVEY)], false);
    let birth = d(2027, 3, 1);
    let h = household(vec![child(1, birth)]);
    for day in 0..=30u64 {
        let date = birth + chrono::Days::new(day);
        let plan = plan(&lib, &h, date);
        match invitation(&plan) {
            Some((text, data)) => {
                assert_eq!(day, 10, "sent on child day 10 only");
                assert!(text.starts_with(
                    "【メッセージについてのアンケート】\n3つだけ質問させてください。"
                ));
                assert!(
                    text.contains("研究"),
                    "the research-consent question: {text}"
                );
                assert_eq!(
                    data,
                    [
                        "kizuna:v1:sv:messages-2027:research-consent:yes",
                        "kizuna:v1:sv:messages-2027:research-consent:no"
                    ]
                );
                assert_eq!(
                    plan.messages.len(),
                    2,
                    "the day's message, then the invitation"
                );
                assert_eq!(plan.items[1].content_key(), "survey/messages-2027");
            }
            None => assert_ne!(day, 10, "child day 10 carries the invitation"),
        }
    }
}

#[test]
fn a_parent_who_joins_mid_window_is_invited_on_their_first_message_day() {
    let lib = library(&[("surveys/messages-2027.toml", SURVEY)], false);
    let birth = d(2027, 3, 1);
    let mut reg = child(1, birth);
    reg.registered_on = d(2027, 3, 16);
    let h = household(vec![reg]);
    let invited: Vec<_> = (0..=30u64)
        .map(|day| birth + chrono::Days::new(day))
        .filter(|&date| invitation(&plan(&lib, &h, date)).is_some())
        .collect();
    assert_eq!(invited, [d(2027, 3, 16)]);
}

#[test]
fn no_invitation_once_answered_while_paused_outside_the_town_or_the_dates() {
    let lib = library(&[("surveys/messages-2027.toml", SURVEY)], false);
    let birth = d(2027, 3, 1);
    let day10 = d(2027, 3, 11);
    let base = household(vec![child(1, birth)]);
    assert!(invitation(&plan(&lib, &base, day10)).is_some());

    let mut answered = base.clone();
    answered.surveys.insert(
        SurveyId::parse("messages-2027").unwrap(),
        SurveyResponse {
            research_consent: Some(false),
            ..SurveyResponse::default()
        },
    );
    assert!(
        invitation(&plan(&lib, &answered, day10)).is_none(),
        "answered: never again"
    );

    let mut paused = base.clone();
    paused.paused = true;
    assert!(plan(&lib, &paused, day10).messages.is_empty());
    paused.paused = false;
    let later: Vec<_> = (11..=20u64)
        .map(|day| birth + chrono::Days::new(day))
        .filter(|&date| invitation(&plan(&lib, &paused, date)).is_some())
        .collect();
    assert!(
        later.is_empty(),
        "a day missed while paused is not made up later (stateless)"
    );

    let mut elsewhere = base.clone();
    elsewhere.municipality = MunicipalityId::parse("other-town").unwrap();
    assert!(
        invitation(&plan(&lib, &elsewhere, day10)).is_none(),
        "town not named"
    );

    let closed = library(
        &[(
            "surveys/messages-2027.toml",
            &with("closes_on = 2027-12-31", "closes_on = 2027-03-10"),
        )],
        false,
    );
    assert!(
        invitation(&plan(&closed, &base, day10)).is_none(),
        "closed the day before"
    );

    let pregnant = household(vec![pregnancy(1, d(2027, 9, 1), d(2027, 1, 1))]);
    let any_day = (0..200u64)
        .map(|n| d(2027, 1, 1) + chrono::Days::new(n))
        .any(|date| invitation(&plan(&lib, &pregnant, date)).is_some());
    assert!(!any_day, "a child window never reaches a pregnancy");
}

#[test]
fn a_stage_window_reaches_a_pregnancy_on_its_first_day() {
    let survey = with("child_days = [10, 20]", "stages = [\"16w0d\", \"27w6d\"]");
    let lib = library(&[("surveys/s.toml", &survey)], false);
    // Due 2027-09-01: gestational day 112 (16w0d) is 168 days before.
    let h = household(vec![pregnancy(1, d(2027, 9, 1), d(2027, 1, 1))]);
    let invited: Vec<_> = (0..250u64)
        .map(|n| d(2027, 1, 1) + chrono::Days::new(n))
        .filter(|&date| invitation(&plan(&lib, &h, date)).is_some())
        .collect();
    assert_eq!(invited, [d(2027, 9, 1) - chrono::Days::new(168)]);
}

#[test]
fn a_full_push_makes_room_for_the_invitation_within_five_objects() {
    let lib = library(&[("surveys/messages-2027.toml", SURVEY)], false);
    // Five children born on the same day: five programme messages on day 10.
    let birth = d(2027, 3, 1);
    let h = household((1..=5).map(|id| child(id, birth)).collect());
    let plan = plan(&lib, &h, d(2027, 3, 11));
    assert_eq!(plan.messages.len(), MAX_MESSAGES_PER_REQUEST);
    assert!(invitation(&plan).is_some());
    assert!(plan.dropped.is_empty(), "texts are combined, none dropped");
    let programme = plan
        .items
        .iter()
        .filter(|i| matches!(i.kind, PlannedKind::Programme { .. }))
        .count();
    assert_eq!(programme, 5, "every programme text is still in the push");
}

#[test]
fn a_stored_answer_keeps_its_shape() {
    // What the household item holds after answers (the results helper reads it).
    let recorded = RecordedAnswer {
        answer: Answer::Choice(1),
        answered_on: d(2027, 3, 11),
    };
    let json = serde_json::to_value(&recorded).unwrap();
    assert_eq!(json["answer"]["type"], "choice");
}
