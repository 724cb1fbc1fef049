//! LINE platform adapter for Kizuna: webhook signature verification, webhook event types,
//! the Messaging API client (reply, push with `X-Line-Retry-Key`, quota, bot info, rich
//! menus) and
//! channel access tokens. No AWS here: credentials arrive as [`ChannelCredentials`] from
//! whoever reads the secret store.

pub mod client;
pub mod error;
pub mod forward;
pub mod rich_menu;
pub mod signature;
pub mod tls;
pub mod token;
pub mod webhook;

pub use client::{
    BotInfo, LineClient, PushOutcome, Quota, ReplyAccepted, SentMessage, DEFAULT_BASE_URL,
    DEFAULT_DATA_BASE_URL,
};
pub use error::{ErrorDetail, LineError};
pub use rich_menu::{
    RichMenu, RichMenuAction, RichMenuArea, RichMenuBounds, RichMenuSize, RichMenuSummary,
};
pub use token::{ChannelCredentials, ChannelSecret, ChannelToken, StatelessToken, TokenProvider};
pub use webhook::{
    Event, EventKind, MessageContent, Mode, Postback, PostbackParams, Source, WebhookRequest,
};
