//! `kizuna survey results|export` in-process against moto (a fresh namespace per test):
//! households seeded with answers in three towns, one of them small; the results hide small
//! counts, the export holds consenting households only, pseudonymised, and a household
//! deleted as the conversation's 削除 deletes it is gone from both.

use kizuna_app::model::Municipality;
use kizuna_app::ports::{HouseholdStore, MunicipalityDirectory};
use kizuna_aws::{compose, PseudonymKeyError};
use kizuna_cli::commands::ops::Ops;
use kizuna_cli::commands::survey::{self, Format};
use kizuna_core::survey::{Answer, RecordedAnswer, Survey, SurveyId, SurveyResponse};
use kizuna_core::survey_export::to_csv;
use kizuna_core::{
    Household, LineUserId, MunicipalityId, Registration, RegistrationStatus, Subject,
};
use kizuna_tests::stack::{content_dir, user};
use kizuna_tests::test_aws;

use kizuna_core::testing::date as d;

fn id(s: &str) -> MunicipalityId {
    MunicipalityId::parse(s).unwrap()
}

fn sid(s: &str) -> SurveyId {
    SurveyId::parse(s).unwrap()
}

/// May 2027, children of 0–100 days: a choice and a free-text question.
fn survey(survey_id: &str) -> Survey {
    kizuna_core::testing::may_2027_survey(survey_id)
}

/// What one seeded household answered: `consent` (None: no response at all).
struct Seed {
    town: &'static str,
    n: u32,
    consent: Option<bool>,
}

/// The free text of household `n`: unique, so its presence is checkable.
fn comment(n: u32) -> String {
    format!("うちの子のこと{n:03}")
}

/// big-town: 8 consenting, 3 declining, 3 not answering; mid-town: 5 consenting;
/// small-town: 2 consenting, 1 declining. Every household answers both surveys alike.
fn seeds() -> Vec<Seed> {
    let mut seeds = Vec::new();
    let mut add = |town, range: std::ops::Range<u32>, consent| {
        for n in range {
            seeds.push(Seed { town, n, consent });
        }
    };
    add("big-town", 0..8, Some(true));
    add("big-town", 8..11, Some(false));
    add("big-town", 11..14, None);
    add("mid-town", 20..25, Some(true));
    add("small-town", 30..32, Some(true));
    add("small-town", 32..33, Some(false));
    seeds
}

fn household(seed: &Seed, surveys: &[&Survey]) -> Household {
    let mut h = Household::new(id(seed.town), LineUserId::parse(&user(seed.n)).unwrap());
    h.registrations = vec![Registration {
        id: 1,
        subject: Subject::Child {
            birth_date: d(2027, 4, 1),
            due_date: None,
        },
        baby_count: 1,
        status: RegistrationStatus::Active,
        registered_on: d(2027, 4, 2),
    }];
    if let Some(consent) = seed.consent {
        for s in surveys {
            let mut response = SurveyResponse {
                research_consent: Some(consent),
                stage_band: Some("child_0_2m".into()),
                ..SurveyResponse::default()
            };
            let at = |answer| RecordedAnswer {
                answer,
                answered_on: d(2027, 5, 2 + seed.n % 20),
            };
            response
                .answers
                .insert(sid("talk"), at(Answer::Choice((seed.n % 2) as u8)));
            response
                .answers
                .insert(sid("comment"), at(Answer::Text(comment(seed.n))));
            h.surveys.insert(s.id.clone(), response);
        }
    }
    h
}

async fn seeded() -> (kizuna_tests::TestAws, Ops, Survey, Survey) {
    let aws = test_aws().await;
    let ops = Ops::new(aws.config.clone(), aws.clients.clone());
    for (town, name) in [
        ("big-town", "大町"),
        ("mid-town", "中村"),
        ("small-town", "小村"),
    ] {
        aws.municipalities()
            .put(&Municipality::new(id(town), name, 8))
            .await
            .unwrap();
    }
    let (first, second) = (survey("usefulness-2027"), survey("support-2027"));
    let store = aws.households();
    for seed in seeds() {
        store
            .save(&household(&seed, &[&first, &second]))
            .await
            .unwrap();
    }
    (aws, ops, first, second)
}

/// Every seeded LINE user id, as LINE writes it.
fn seeded_ids() -> Vec<String> {
    seeds().iter().map(|s| user(s.n)).collect()
}

#[tokio::test]
async fn results_hide_small_counts_and_no_figure_names_a_parent() {
    let (_aws, ops, first, _) = seeded().await;
    let report = survey::collect_results(&ops, &first, d(2027, 6, 10))
        .await
        .unwrap();
    let network = &report.results.network;
    // 8 + 3 + 5 + 2 + 1 answered; 3 more eligible that did not.
    assert_eq!((network.respondents, network.eligible), (19, 22));
    assert_eq!(network.consent_yes, 15);

    let csv = survey::render(&report, None, Format::Csv);
    let value = |town: &str, question: &str, answer: &str| -> String {
        let prefix = format!(",{town},");
        csv.lines()
            .find(|l| {
                l.contains(&prefix) && l.contains(&format!(",{question},")) && {
                    let fields: Vec<&str> = l.split(',').collect();
                    fields[6] == answer
                }
            })
            .unwrap_or_else(|| panic!("{town} {question} {answer}: {csv}"))
            .rsplit(',')
            .next()
            .unwrap()
            .to_owned()
    };
    // small-town: 3 respondents, 2 consenting, 1 declining: all "<5".
    assert_eq!(value("small-town", "response", "respondents"), "<5");
    assert_eq!(value("small-town", "response", "consent_yes"), "<5");
    assert_eq!(value("small-town", "response", "consent_no"), "<5");
    // No count from 1 to 4 is printed anywhere, and every printed count is a count.
    for line in csv.lines().skip(1) {
        let v = line.rsplit(',').next().unwrap();
        if let Ok(n) = v.parse::<u64>() {
            assert!(!(1..=4).contains(&n), "{line}");
        } else {
            assert!(
                ["<5", "x", ""].contains(&v) || v.parse::<f64>().is_ok(),
                "{line}"
            );
        }
    }
    // Free texts are counted, never printed; no user id in any format.
    for format in [Format::Table, Format::Csv, Format::Html] {
        let text = survey::render(&report, None, format);
        for seed in seeds() {
            assert!(!text.contains(&comment(seed.n)), "{format:?}");
        }
        for user in seeded_ids() {
            assert!(!text.contains(&user), "{format:?}");
        }
    }
    // One town's report: its rows and the network's, figures as in the whole report.
    let only = survey::render(&report, Some(&id("small-town")), Format::Csv);
    assert!(!only.contains("big-town") && only.contains(",network,"));
    for line in only.lines() {
        assert!(csv.contains(line), "{line}");
    }
}

#[tokio::test]
async fn the_export_is_consenting_pseudonymous_and_forgets_a_deleted_household() {
    let (aws, ops, first, second) = seeded().await;
    let key_reader = compose::pseudonym_key(&ops.config, &ops.clients);

    // Before the stack generated the key: a clear error naming the secret, not the key.
    let missing = key_reader.get().await.unwrap_err();
    assert!(
        matches!(missing, PseudonymKeyError::Missing(_)),
        "{missing}"
    );
    assert!(missing.to_string().contains(&ops.config.survey_key_secret));
    // What CloudFormation's GenerateSecretString does: 64 random letters and digits.
    let secret_value = "Zq3".repeat(21) + "x";
    aws.clients
        .secrets
        .create_secret()
        .name(&ops.config.survey_key_secret)
        .secret_string(&secret_value)
        .send()
        .await
        .unwrap();
    let key = key_reader.get().await.unwrap();
    assert!(
        !format!("{key:?}").contains("Zq3"),
        "the key is never printed"
    );

    let rows = survey::export_rows(&ops, &first, &key).await.unwrap();
    let csv = to_csv(&first, &rows);
    // One row per consenting household: 8 + 5 + 2.
    assert_eq!(rows.len(), 15, "{csv}");
    for user in seeded_ids() {
        assert!(!csv.contains(&user), "a LINE user id in the export");
    }
    assert!(!csv.contains(&secret_value));
    assert!(
        !csv.contains("2027-05-0") && !csv.contains("2027-05-1"),
        "no answer date"
    );
    let all = seeds();
    for seed in &all {
        let text = comment(seed.n);
        assert_eq!(
            csv.contains(&text),
            seed.consent == Some(true),
            "household {}'s free text",
            seed.n
        );
    }
    // small-town (2 rows) is `other`; mid-town, the smallest named, joins it so that
    // `other` is not small-town alone; big-town is named.
    let towns: Vec<&str> = rows
        .iter()
        .map(|r| r.town.as_ref().map_or("other", |t| t.as_str()))
        .collect();
    assert_eq!(towns.iter().filter(|t| **t == "big-town").count(), 8);
    assert_eq!(towns.iter().filter(|t| **t == "other").count(), 7);
    assert!(!csv.contains("small-town") && !csv.contains("mid-town"));

    // Stable per survey; unrelated across surveys.
    let again = survey::export_rows(&ops, &first, &key).await.unwrap();
    assert_eq!(again, rows);
    let other_survey = survey::export_rows(&ops, &second, &key).await.unwrap();
    assert_eq!(other_survey.len(), 15);
    for row in &other_survey {
        assert!(rows.iter().all(|r| r.pseudonym != row.pseudonym));
    }

    // 削除 as the conversation does it: the household store's delete of the item read.
    let gone = &all[0];
    let store = aws.households();
    let stored = store
        .get(&id(gone.town), &LineUserId::parse(&user(gone.n)).unwrap())
        .await
        .unwrap()
        .unwrap();
    let gone_pseudonym = key.pseudonym(&first, &stored);
    assert!(rows.iter().any(|r| r.pseudonym == gone_pseudonym));
    store.delete(&stored).await.unwrap();

    let rows = survey::export_rows(&ops, &first, &key).await.unwrap();
    assert_eq!(rows.len(), 14);
    assert!(rows.iter().all(|r| r.pseudonym != gone_pseudonym));
    assert!(!to_csv(&first, &rows).contains(&comment(gone.n)));
    let report = survey::collect_results(&ops, &first, d(2027, 6, 10))
        .await
        .unwrap();
    let big = &report.results.towns[&id("big-town")];
    assert_eq!(
        (big.respondents, big.consent_yes, big.eligible),
        (10, 7, 13)
    );
}

#[tokio::test]
async fn the_binary_names_an_unknown_survey_and_reads_the_operators_configuration() {
    let aws = test_aws().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kizuna"))
        .args(["survey", "results", "no-such-survey", "--content"])
        .arg(content_dir())
        .env_clear()
        .env("AWS_REGION", kizuna_tests::REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .envs(aws.config.to_operator_env())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no survey no-such-survey in the content pack"),
        "{stderr}"
    );
    // An id that cannot be a survey's is refused before anything is read.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kizuna"))
        .args(["survey", "export", "Not An Id"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
