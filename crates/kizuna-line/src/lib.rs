//! The LINE adapter for Kizuna: the Messaging API client (reply, push with
//! `X-Line-Retry-Key`, quota, bot info, rich menus), the channel access token cache, and the
//! application's messaging ports implemented over them ([`LineMessenger`],
//! [`WebhookForwardClient`]). No AWS here: credentials arrive as
//! [`kizuna_app::model::ChannelCredentials`] from whoever reads the secret store.
//!
//! The webhook protocol itself (signature, event types) is `kizuna-line-webhook`, which the
//! application layer uses without depending on this crate.
//!
//! Modules depend one way: `token` and `messenger` use `client`; `client` uses neither. `wire`
//! (the core's messages as LINE's message objects, and LINE's limits) uses nothing of ours.

pub mod client;
pub mod error;
pub mod forward;
pub mod messenger;
pub mod rich_menu;
pub mod tls;
pub mod token;
pub mod wire;

pub use client::{
    BotInfo, LineClient, PushOutcome, Quota, ReplyAccepted, SentMessage, StatelessToken,
    DEFAULT_BASE_URL, DEFAULT_DATA_BASE_URL,
};
pub use error::{ErrorDetail, LineError};
pub use forward::WebhookForwardClient;
pub use kizuna_app::model::{ChannelCredentials, ChannelSecret, ChannelToken};
pub use messenger::LineMessenger;
pub use rich_menu::{
    RichMenu, RichMenuAction, RichMenuArea, RichMenuBounds, RichMenuSize, RichMenuSummary,
};
pub use token::TokenProvider;
