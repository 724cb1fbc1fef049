//! The compiled content artifact (`ContentLibrary::to_artifact` / `from_artifact`): a library
//! read back from it plans exactly what the parsed one plans, and a damaged, foreign or stale
//! artifact is refused with the reason, never half-read.

mod plan_support;

use chrono::Days;
use kizuna_core::content::{
    ArtifactError, ArtifactHeader, ContentLibrary, ARTIFACT_FORMAT_VERSION,
};
use kizuna_core::plan::plan_household;
use kizuna_core::{Household, Language, MunicipalityId};
use plan_support::{child, d, file, household, minimal_base, pregnancy, sample, town};
use sha2::{Digest, Sha256};

/// Households that between them reach every kind of text over four years: maternity days
/// and the closing, child days and birthdays, town notes (stage, child-day and calendar
/// windows), each language pack, twins, and a town without an overlay.
fn households() -> Vec<Household> {
    let mut all = vec![
        household(vec![pregnancy(1, d(2027, 9, 1), d(2027, 1, 5))]),
        household(vec![child(1, d(2027, 1, 10))]),
        household(vec![
            child(1, d(2026, 12, 24)),
            pregnancy(2, d(2028, 6, 30), d(2027, 11, 1)),
        ]),
    ];
    for language in [Language::English, Language::EasyJapanese] {
        let mut h = household(vec![
            pregnancy(1, d(2027, 8, 1), d(2027, 1, 1)),
            child(2, d(2027, 2, 1)),
        ]);
        h.language = language;
        all.push(h);
    }
    let mut twins = household(vec![child(1, d(2027, 3, 3))]);
    twins.registrations[0].baby_count = 2;
    all.push(twins);
    let mut elsewhere = household(vec![child(1, d(2027, 1, 1))]);
    elsewhere.municipality = MunicipalityId::parse("no-overlay-town").unwrap();
    all.push(elsewhere);
    all
}

#[test]
fn the_sample_pack_decodes_to_a_library_that_plans_every_day_the_same() {
    let parsed = sample();
    let bytes = parsed.to_artifact();
    let decoded = ContentLibrary::from_artifact(&bytes).expect("its own artifact decodes");

    assert_eq!(decoded.version(), parsed.version());
    assert_eq!(decoded.pack_id(), parsed.pack_id());
    assert_eq!(decoded.pack_version(), parsed.pack_version());
    assert_eq!(decoded.is_sample(), parsed.is_sample());
    assert_eq!(decoded.schedule(), parsed.schedule());
    assert!(decoded.municipalities().eq(parsed.municipalities()));
    assert!(decoded.languages().eq(parsed.languages()));
    assert!(
        decoded.has_municipality(&town()),
        "the town overlay is in it"
    );
    assert_eq!(decoded.languages().count(), 2, "en and ja-easy are in it");
    // Deterministic: the same library always compiles to the same bytes (content sync
    // compares the artifact by its MD5 ETag).
    assert_eq!(decoded.to_artifact(), bytes);

    let mut planned_messages = 0;
    for h in households() {
        for offset in 0..(4 * 366) {
            let date = d(2027, 1, 1) + Days::new(offset);
            let original = plan_household(
                &h,
                date,
                &parsed
                    .for_municipality(&h.municipality)
                    .in_language(h.language),
            );
            let read_back = plan_household(
                &h,
                date,
                &decoded
                    .for_municipality(&h.municipality)
                    .in_language(h.language),
            );
            assert_eq!(read_back, original, "{date}");
            planned_messages += original.messages.len();
        }
    }
    assert!(
        planned_messages > 2_000,
        "the comparison saw texts: {planned_messages}"
    );
}

/// Byte offsets of the header (the layout in `content::compiled`).
const FORMAT_VERSION_AT: usize = 8;
const HEADER_LEN: usize = 84;

#[test]
fn a_flipped_payload_byte_is_refused_by_the_checksum() {
    let mut bytes = sample().to_artifact();
    let middle = HEADER_LEN + (bytes.len() - HEADER_LEN) / 2;
    bytes[middle] ^= 0x01;
    let refused = ContentLibrary::from_artifact(&bytes).unwrap_err();
    assert_eq!(refused, ArtifactError::ChecksumMismatch);
    assert_eq!(refused.reason(), "checksum");
    assert!(refused.to_string().contains("checksum"));
}

#[test]
fn another_format_version_is_refused_as_stale() {
    let mut bytes = sample().to_artifact();
    let other = ARTIFACT_FORMAT_VERSION + 1;
    bytes[FORMAT_VERSION_AT..FORMAT_VERSION_AT + 4].copy_from_slice(&other.to_le_bytes());
    let refused = ContentLibrary::from_artifact(&bytes).unwrap_err();
    assert_eq!(
        refused,
        ArtifactError::Stale {
            found: other,
            expected: ARTIFACT_FORMAT_VERSION
        }
    );
    assert_eq!(refused.reason(), "stale");
}

#[test]
fn foreign_truncated_and_inconsistent_artifacts_are_refused() {
    let bytes = sample().to_artifact();

    let mut foreign = bytes.clone();
    foreign[0] = b'X';
    assert_eq!(
        ContentLibrary::from_artifact(&foreign).unwrap_err(),
        ArtifactError::BadMagic
    );

    let cut = &bytes[..bytes.len() - 10];
    assert_eq!(
        ContentLibrary::from_artifact(cut).unwrap_err().reason(),
        "truncated"
    );

    // A header whose source digest is not the payload's (e.g. a hand-assembled file): the
    // checksum still matches, the digest check catches it.
    let mut other_digest = bytes.clone();
    other_digest[12] ^= 0xff;
    assert_eq!(
        ContentLibrary::from_artifact(&other_digest)
            .unwrap_err()
            .reason(),
        "inconsistent"
    );

    // A payload that is not a library, with a correct checksum: undecodable, not a panic.
    let mut garbage = bytes[..HEADER_LEN].to_vec();
    let payload = vec![0xffu8; 64];
    garbage[44..52].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    garbage[52..84].copy_from_slice(&Sha256::digest(&payload));
    garbage.extend_from_slice(&payload);
    assert_eq!(
        ContentLibrary::from_artifact(&garbage)
            .unwrap_err()
            .reason(),
        "undecodable"
    );
}

#[test]
fn the_header_names_the_source_digest_and_format() {
    let bytes = sample().to_artifact();
    let header = ArtifactHeader::read(&bytes).unwrap();
    assert_eq!(header.format_version, ARTIFACT_FORMAT_VERSION);
    assert_eq!(header.source_digest, sample().version());
    assert_eq!(header.payload_len as usize, bytes.len() - HEADER_LEN);
}

/// A fixed small pack, compiled: its SHA-256 changes whenever the encoding of any type inside
/// `ContentLibrary` changes. If this fails after you changed those types, bump
/// `ARTIFACT_FORMAT_VERSION` (so that older artifacts are refused as stale instead of being
/// misread) and then update the expected value here.
#[test]
fn format_fingerprint() {
    let mut files = minimal_base(
        |day| format!("妊娠{{week}}週{{day}}日（{day}）"),
        |day| format!("[[child]]\nday = {day}\ntext = \"生後{{age_days}}日\"\n"),
    );
    files.push(file(
        "base/pack.toml",
        "id = \"t\"\nversion = \"1\"\n\n[[child_schedule]]\nfrom_day = 107\nto_day = 1094\nevery_days = 7\n",
    ));
    files.retain(|f| f.path != "base/pack.toml" || f.text.contains("schedule"));
    files.push(file(
        "municipalities/t-town/municipality.toml",
        "display_name = \"テスト町\"\nkodomo_center = \"テスト町こども家庭センター\"\n",
    ));
    files.push(file(
        "municipalities/t-town/notes.toml",
        "[[note]]\nid = \"a\"\nstages = [\"20w0d\", \"23w6d\"]\ntext = \"{center}へ\"\n\n[[note]]\nid = \"b\"\ndates = [2027-05-01, 2027-05-31]\ntext = \"五月\"\n",
    ));
    files.push(file(
        "lang/en/child.toml",
        "[[child]]\nday = 3\ntext = \"Day {age_days}.\"\n",
    ));
    // A survey with every kind of window and question (artifact format 3).
    files.push(file(
        "surveys/s-1.toml",
        concat!(
            "title = \"題\"\nsample = true\nopens_on = 2027-01-01\ncloses_on = 2027-03-31\n",
            "invitation = \"お願い\"\nthanks = \"感謝\"\n\n",
            "[audience]\nmunicipalities = [\"t-town\"]\nstages = [\"16w0d\", \"27w6d\"]\nchild_days = [0, 180]\n\n",
            "[[question]]\nid = \"a\"\ntype = \"scale\"\ntext = \"1〜5\"\nlow = \"低\"\nhigh = \"高\"\n\n",
            "[[question]]\nid = \"b\"\ntype = \"choice\"\ntext = \"選\"\nchoices = [\"x\", \"y\"]\n\n",
            "[[question]]\nid = \"c\"\ntype = \"text\"\ntext = \"自由\"\nmax_chars = 100\n",
        ),
    ));
    let (library, _gaps) = ContentLibrary::from_files_allowing_gaps(files).unwrap_or_else(|e| {
        panic!(
            "fixture pack: {}",
            e.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert_eq!(
        library.surveys().len(),
        1,
        "the fixture's survey is in the library"
    );
    let bytes = library.to_artifact();
    assert_eq!(
        ContentLibrary::from_artifact(&bytes).unwrap().to_artifact(),
        bytes
    );
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        "1e9f66d67a3f774d8cb1b614647800d55eddb05306a82acbcc65b3924776b0e5",
        "the compiled format changed: bump ARTIFACT_FORMAT_VERSION, then update this value"
    );
}
