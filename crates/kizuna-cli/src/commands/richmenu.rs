//! `kizuna municipality richmenu ID [--remove]`: Kizuna's rich menu (the menu at the bottom of
//! the chat) as the channel's default, or taken down.
//!
//! The menu's four areas send the same words a parent can type, so the conversation needs
//! nothing menu-specific, and a town whose account already has another service's menu can
//! wire these texts into theirs (docs/parent-commands.md).

use crate::commands::ops::Ops;
use anyhow::{bail, Context as _};
use kizuna_app::ports::ChannelSecrets;
use kizuna_aws::compose;
use kizuna_core::MunicipalityId;
use kizuna_line::{
    ChannelToken, LineClient, RichMenu, RichMenuAction, RichMenuArea, RichMenuBounds, RichMenuSize,
    TokenProvider,
};
use std::io::Write;
use std::process::ExitCode;

/// The menu's image, rendered by `scripts/render-richmenu` from `assets/richmenu.html`.
pub const IMAGE_PNG: &[u8] = include_bytes!("../../assets/richmenu.png");

/// LINE's "large, compact" size: full width, a third of the screen's height.
pub const SIZE: RichMenuSize = RichMenuSize {
    width: 2500,
    height: 843,
};

/// How Kizuna recognises its own menus among the channel's (LINE shows no name to users).
pub const MENU_NAME: &str = "kizuna-default";

/// The bar under the chat that opens the menu (LINE: ≤ 14 characters).
pub const CHAT_BAR_TEXT: &str = "メニュー";

/// Each area, left to right: the label on the image and the text the tap sends, a word the
/// conversation understands (crates/kizuna-core/src/conversation/texts.rs).
pub const AREAS: [(&str, &str); 4] = [
    ("今日のメッセージ", "今日のメッセージ"),
    ("登録内容", "登録内容"),
    // Changing a date and adding a child both start from 変更's answer.
    ("変更・追加", "変更"),
    ("ヘルプ", "ヘルプ"),
];

/// The menu Kizuna creates: four equal columns over the whole image.
pub fn menu() -> RichMenu {
    let n = AREAS.len() as u32;
    let column = SIZE.width / n;
    let areas = AREAS
        .iter()
        .zip(0..)
        .map(|(&(label, text), i)| RichMenuArea {
            bounds: RichMenuBounds {
                x: i * column,
                y: 0,
                // The last column takes the remainder of an uneven division.
                width: if i + 1 == n {
                    SIZE.width - i * column
                } else {
                    column
                },
                height: SIZE.height,
            },
            action: RichMenuAction::Message {
                label: label.to_owned(),
                text: text.to_owned(),
            },
        })
        .collect();
    RichMenu {
        size: SIZE,
        selected: true,
        name: MENU_NAME.to_owned(),
        chat_bar_text: CHAT_BAR_TEXT.to_owned(),
        areas,
    }
}

/// A client and a token for the town's channel, from its stored credentials.
async fn channel(ops: &Ops, id: &MunicipalityId) -> anyhow::Result<(LineClient, ChannelToken)> {
    let Some(credentials) = compose::secrets(&ops.config, &ops.clients).get(id).await? else {
        bail!("{id} has no stored channel credentials: run `kizuna municipality add {id} … --channel-id ID --channel-secret-file F` first");
    };
    let line = compose::line_client(&ops.config)?;
    let token = TokenProvider::new(line.clone())
        .token(&credentials)
        .await
        .with_context(|| format!("getting a channel access token for {id}"))?;
    Ok((line, token))
}

/// The ids of the channel's rich menus that Kizuna made (by name); another service's menus
/// are never touched.
async fn kizuna_menus(line: &LineClient, token: &ChannelToken) -> anyhow::Result<Vec<String>> {
    Ok(line
        .rich_menus(token)
        .await
        .context("listing the channel's rich menus")?
        .into_iter()
        .filter(|m| m.name == MENU_NAME)
        .map(|m| m.rich_menu_id)
        .collect())
}

/// Creates the menu, uploads its image, makes it the default, then deletes Kizuna's earlier
/// menus (so that re-running replaces the menu rather than piling them up). Prints the id.
pub async fn install(
    ops: &Ops,
    id: &MunicipalityId,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let (line, token) = channel(ops, id).await?;
    let earlier = kizuna_menus(&line, &token).await?;
    let previous_default = line.default_rich_menu(&token).await?;
    let menu_id = line
        .create_rich_menu(&token, &menu())
        .await
        .context("creating the rich menu")?;
    let attached = line
        .upload_rich_menu_image(&token, &menu_id, "image/png", IMAGE_PNG.to_vec())
        .await
        .context("uploading the rich menu image");
    let set = match attached {
        Ok(()) => line
            .set_default_rich_menu(&token, &menu_id)
            .await
            .context("setting the rich menu as the default"),
        Err(e) => Err(e),
    };
    if let Err(e) = set {
        // A menu without an image (or never shown) is clutter: take it back.
        let _ = line.delete_rich_menu(&token, &menu_id).await;
        return Err(e);
    }
    for old in &earlier {
        line.delete_rich_menu(&token, old)
            .await
            .with_context(|| format!("deleting Kizuna's earlier rich menu {old}"))?;
    }
    writeln!(out, "{id}: rich menu {menu_id} is the default (今日のメッセージ / 登録内容 / 変更・追加 / ヘルプ)")?;
    if let Some(other) = previous_default.filter(|d| !earlier.contains(d)) {
        writeln!(
            out,
            "note: it replaces another default menu ({other}), which was left in place; `--remove` does not bring it back"
        )?;
    }
    if !earlier.is_empty() {
        writeln!(out, "deleted {} earlier Kizuna menu(s)", earlier.len())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Unsets the default if it is Kizuna's menu and deletes Kizuna's menus; another service's
/// menus are left alone.
pub async fn remove(
    ops: &Ops,
    id: &MunicipalityId,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let (line, token) = channel(ops, id).await?;
    let ours = kizuna_menus(&line, &token).await?;
    let default = line.default_rich_menu(&token).await?;
    if default.as_ref().is_some_and(|d| ours.contains(d)) {
        line.cancel_default_rich_menu(&token)
            .await
            .context("unsetting the default rich menu")?;
    }
    for menu_id in &ours {
        line.delete_rich_menu(&token, menu_id)
            .await
            .with_context(|| format!("deleting rich menu {menu_id}"))?;
    }
    match ours.len() {
        0 => writeln!(out, "{id}: no Kizuna rich menu to remove")?,
        n => writeln!(
            out,
            "{id}: removed {n} Kizuna rich menu(s); no default menu from Kizuna"
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kizuna_core::conversation::Command;

    fn png_dimensions(png: &[u8]) -> (u32, u32) {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
        assert_eq!(&png[12..16], b"IHDR");
        let be = |r: std::ops::Range<usize>| u32::from_be_bytes(png[r].try_into().unwrap());
        (be(16..20), be(20..24))
    }

    #[test]
    fn the_embedded_image_is_the_menus_size_and_at_most_1_mb() {
        assert_eq!(png_dimensions(IMAGE_PNG), (SIZE.width, SIZE.height));
        assert!(IMAGE_PNG.len() <= 1024 * 1024, "{} bytes", IMAGE_PNG.len());
    }

    #[test]
    fn the_menu_is_valid_per_lines_contract_and_its_areas_tile_the_image() {
        let body = serde_json::to_value(menu()).unwrap();
        assert_eq!(fake_line::contract::check_rich_menu_body(&body), vec![]);
        let m = menu();
        let mut x = 0;
        for area in &m.areas {
            assert_eq!((area.bounds.x, area.bounds.y), (x, 0));
            assert_eq!(area.bounds.height, SIZE.height);
            x += area.bounds.width;
        }
        assert_eq!(x, SIZE.width);
    }

    #[test]
    fn the_areas_send_words_the_conversation_understands() {
        assert_eq!(Command::parse(AREAS[1].1), Some(Command::Show));
        assert_eq!(Command::parse(AREAS[2].1), Some(Command::Change));
        assert_eq!(Command::parse(AREAS[3].1), Some(Command::Help));
        assert_eq!(Command::parse(AREAS[0].1), Some(Command::Today));
    }
}
