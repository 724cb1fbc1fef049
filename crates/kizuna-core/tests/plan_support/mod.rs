//! Shared helpers for the integration tests (included with `mod plan_support;`; `common/` belongs to the conversation tests).
#![allow(dead_code)]

use chrono::NaiveDate;
use kizuna_core::content::{ContentLibrary, SourceFile};
use kizuna_core::{
    EndReason, Household, LineUserId, MunicipalityId, Registration, RegistrationStatus, Subject,
};
use std::path::Path;
use std::sync::OnceLock;

// Not every test file that includes this module uses it.
#[allow(unused_imports)]
pub use kizuna_core::testing::date as d;

/// The sample pack from the repository's `content/`, loaded once per test binary.
pub fn sample() -> &'static ContentLibrary {
    static LIBRARY: OnceLock<ContentLibrary> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
        ContentLibrary::load_dir(&dir).unwrap_or_else(|diagnostics| {
            panic!(
                "sample pack does not load:\n{}",
                diagnostics
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
    })
}

pub fn town() -> MunicipalityId {
    MunicipalityId::parse("kizuna-town").unwrap()
}

pub fn household(registrations: Vec<Registration>) -> Household {
    let mut h = Household::new(
        town(),
        LineUserId::parse("U4af4980629a0b1c2d3e4f5a6b7c8d9e0").unwrap(),
    );
    h.registrations = registrations;
    h
}

pub fn pregnancy(id: u32, due_date: NaiveDate, registered_on: NaiveDate) -> Registration {
    Registration {
        id,
        subject: Subject::Pregnancy { due_date },
        baby_count: 1,
        status: RegistrationStatus::Active,
        registered_on,
    }
}

pub fn child(id: u32, birth_date: NaiveDate) -> Registration {
    Registration {
        id,
        subject: Subject::Child {
            birth_date,
            due_date: None,
        },
        baby_count: 1,
        status: RegistrationStatus::Active,
        registered_on: birth_date,
    }
}

pub fn ended(mut r: Registration, reason: EndReason, on: NaiveDate) -> Registration {
    r.status = RegistrationStatus::Ended { reason, on };
    r
}

/// One content file as the loader reads it.
pub fn file(path: &str, text: &str) -> SourceFile {
    SourceFile {
        path: path.to_owned(),
        text: text.to_owned(),
    }
}

/// A minimal complete base pack (no overlay): `maternity(day)` is the text of gestational day
/// 28–293, `child_entry(day)` the whole `[[child]]` entry of days 0–100 (callers choose its
/// layout), then a closing and three birthdays.
pub fn minimal_base(
    maternity: impl Fn(u16) -> String,
    child_entry: impl Fn(u16) -> String,
) -> Vec<SourceFile> {
    let mut maternity_toml = String::new();
    for day in 28..=293u16 {
        maternity_toml.push_str(&format!(
            "[[maternity]]\nstage = \"{}w{}d\"\ntext = \"{}\"\n",
            day / 7,
            day % 7,
            maternity(day)
        ));
    }
    let child_toml: String = (0..=100u16).map(child_entry).collect();
    let mut other = String::from("[closing]\ntext = \"おしまい\"\n");
    for age in 1..=3 {
        other.push_str(&format!("[[birthday]]\nage = {age}\ntext = \"{age}歳\"\n"));
    }
    vec![
        file("base/pack.toml", "id = \"t\"\nversion = \"1\"\n"),
        file("base/maternity.toml", &maternity_toml),
        file("base/child.toml", &child_toml),
        file("base/other.toml", &other),
    ]
}
