//! A town's add-friend link: the URL behind the QR code on its flyer and in its own materials.
//!
//! LINE documents the add-friend URL of an official account as `https://line.me/R/ti/p/{LINE
//! ID}`, with the `@` of the LINE ID percent-encoded (`%40`): LINE's URL scheme guide,
//! "Opening profile information" / 「プロフィール情報を開く」
//! (developers.line.biz/en/docs/messaging-api/using-line-url-scheme/). A `https://line.me/R/`
//! URL opens LINE on a phone that has it and a download page on one that does not, so one
//! printed code works for every parent.
//!
//! The basic id is recorded at onboarding from LINE's bot info
//! ([`crate::model::Municipality::bot_basic_id`]); this module checks its shape before it is
//! printed on paper, where a wrong character cannot be fixed later.

use crate::model::Municipality;
use std::fmt;

/// The part of the URL before the encoded `@`.
pub const ADD_FRIEND_URL_PREFIX: &str = "https://line.me/R/ti/p/";

/// LINE IDs are at most 20 characters after the `@` (basic ids are 8–9, premium ids up to 18);
/// anything longer is not an id LINE issued.
const MAX_ID_CHARS: usize = 20;

/// A LINE official account's id as LINE shows it: `@` and then ASCII letters and digits (a
/// basic id such as `@123abcde`), or the `-`, `_` and `.` a premium id may also contain.
/// All of these are unreserved in a URL path, so only the `@` needs encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotBasicId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBasicId {
    #[error("LINEのベーシックIDは「@」で始まります（例: @123abcde） / a LINE basic id starts with '@' (e.g. @123abcde), got {0:?}")]
    MissingAt(String),
    #[error("LINEのベーシックIDに使えない文字があります（英数字と - _ . のみ） / a LINE basic id has only letters, digits, '-', '_' and '.', got {0:?}")]
    Characters(String),
    #[error("LINEのベーシックIDの長さが正しくありません / a LINE basic id has 1–{MAX_ID_CHARS} characters after '@', got {0:?}")]
    Length(String),
}

impl BotBasicId {
    pub fn parse(raw: &str) -> Result<Self, InvalidBasicId> {
        let raw = raw.trim();
        let Some(rest) = raw.strip_prefix('@') else {
            return Err(InvalidBasicId::MissingAt(raw.to_owned()));
        };
        if rest.is_empty() || rest.chars().count() > MAX_ID_CHARS {
            return Err(InvalidBasicId::Length(raw.to_owned()));
        }
        if !rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(InvalidBasicId::Characters(raw.to_owned()));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as LINE shows it, `@` included.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `https://line.me/R/ti/p/%40…`: the account's add-friend URL.
    pub fn add_friend_url(&self) -> String {
        format!("{ADD_FRIEND_URL_PREFIX}%40{}", &self.0[1..])
    }
}

impl fmt::Display for BotBasicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a town has no add-friend link yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoAddFriendLink {
    #[error(
        "{id} のLINEベーシックIDが記録されていません。チャネルの認証情報を保存したうえで \
         `kizuna municipality add {id} --name … --hour …` をもう一度実行すると、LINEから\
         ボット情報を取得してベーシックIDを記録します。 / {id} has no recorded LINE basic id: \
         run `kizuna municipality add {id} --name … --hour …` again (with the channel \
         credentials stored or given); it asks LINE for the bot's info and records the basic id."
    )]
    NotRecorded { id: String },
    #[error("{id}: {source}")]
    Invalid {
        id: String,
        #[source]
        source: InvalidBasicId,
    },
}

/// The town's basic id, checked, or why there is none to print.
pub fn basic_id_of(municipality: &Municipality) -> Result<BotBasicId, NoAddFriendLink> {
    let id = municipality.id.as_str().to_owned();
    let raw = municipality
        .bot_basic_id
        .as_deref()
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| NoAddFriendLink::NotRecorded { id: id.clone() })?;
    BotBasicId::parse(raw).map_err(|source| NoAddFriendLink::Invalid { id, source })
}

/// The town's add-friend URL (see the module documentation).
pub fn add_friend_url(municipality: &Municipality) -> Result<String, NoAddFriendLink> {
    basic_id_of(municipality).map(|b| b.add_friend_url())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kizuna_core::MunicipalityId;

    #[test]
    fn the_at_sign_is_percent_encoded_as_line_documents() {
        // LINE's own example shape: https://line.me/R/ti/p/%40linedevelopers
        let id = BotBasicId::parse("@123abcde").unwrap();
        assert_eq!(id.add_friend_url(), "https://line.me/R/ti/p/%40123abcde");
        assert_eq!(id.as_str(), "@123abcde");
        // Premium ids keep their punctuation, which needs no encoding in a path.
        assert_eq!(
            BotBasicId::parse(" @kizuna-town.jp_1 ")
                .unwrap()
                .add_friend_url(),
            "https://line.me/R/ti/p/%40kizuna-town.jp_1"
        );
    }

    #[test]
    fn ids_that_line_never_issues_are_refused() {
        // Each case gets the variant that names what is wrong.
        type IsExpected = fn(&InvalidBasicId) -> bool;
        let cases: [(&str, IsExpected); 6] = [
            ("123abcde", |e| matches!(e, InvalidBasicId::MissingAt(_))),
            ("", |e| matches!(e, InvalidBasicId::MissingAt(_))),
            ("@", |e| matches!(e, InvalidBasicId::Length(_))),
            ("@abcdefghijklmnopqrstu", |e| {
                matches!(e, InvalidBasicId::Length(_))
            }),
            ("@abc/def", |e| matches!(e, InvalidBasicId::Characters(_))),
            ("@きずな", |e| matches!(e, InvalidBasicId::Characters(_))),
        ];
        for (raw, expected) in cases {
            let err = BotBasicId::parse(raw).unwrap_err();
            assert!(expected(&err), "{raw:?} gave {err:?}");
        }
        // The longest id LINE can issue is still accepted.
        assert!(BotBasicId::parse("@abcdefghijklmnopqrst").is_ok());
    }

    #[test]
    fn a_town_without_a_basic_id_is_told_how_to_record_it() {
        let mut m = Municipality::new(MunicipalityId::parse("kizuna-town").unwrap(), "きずな町", 8);
        let err = add_friend_url(&m).unwrap_err();
        assert_eq!(
            err,
            NoAddFriendLink::NotRecorded {
                id: "kizuna-town".into()
            }
        );
        let text = err.to_string();
        assert!(text.contains("ベーシックIDが記録されていません"), "{text}");
        assert!(
            text.contains("kizuna municipality add kizuna-town"),
            "{text}"
        );

        m.bot_basic_id = Some("  ".into());
        assert!(matches!(
            add_friend_url(&m),
            Err(NoAddFriendLink::NotRecorded { .. })
        ));
        m.bot_basic_id = Some("kizuna".into());
        assert!(matches!(
            add_friend_url(&m),
            Err(NoAddFriendLink::Invalid { .. })
        ));
        m.bot_basic_id = Some("@fake1650000000".into());
        assert_eq!(
            add_friend_url(&m).unwrap(),
            "https://line.me/R/ti/p/%40fake1650000000"
        );
    }
}
