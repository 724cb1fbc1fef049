//! Rich menu objects (the menu fixed at the bottom of the chat), as the Messaging API takes
//! and returns them.

use serde::{Deserialize, Serialize};

/// Width × height of a rich menu and of its image, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RichMenuSize {
    pub width: u32,
    pub height: u32,
}

/// A tappable rectangle of the menu, relative to its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RichMenuBounds {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// What tapping an area does. Kizuna's menu only sends text the conversation understands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum RichMenuAction {
    /// Sends `text` as if the parent had typed it.
    Message { label: String, text: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RichMenuArea {
    pub bounds: RichMenuBounds,
    pub action: RichMenuAction,
}

/// The create request (`RichMenuRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RichMenu {
    pub size: RichMenuSize,
    /// Whether the menu opens by default when the chat is opened.
    pub selected: bool,
    /// For managing menus; not shown to users (≤ 300 characters).
    pub name: String,
    /// The label of the bar that opens the menu (≤ 14 characters).
    pub chat_bar_text: String,
    pub areas: Vec<RichMenuArea>,
}

/// A rich menu of the channel as LINE returns it (the fields Kizuna reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RichMenuSummary {
    pub rich_menu_id: String,
    pub name: String,
    pub size: RichMenuSize,
}
