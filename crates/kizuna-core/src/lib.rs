//! Kizuna's domain core.
//!
//! Everything here is pure: no AWS, no HTTP, no clock reads. Callers pass "today" in.
//! The one question the rest of the system asks is answered by [`plan::plan_household`]:
//! *on date D, what does this household receive?*

pub mod calendar;
pub mod content;
pub mod conversation;
pub mod household;
pub mod ids;
pub mod message;
pub mod plan;
pub mod programme;
pub mod survey;
pub mod survey_export;
pub mod survey_results;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod typed_date;

pub use calendar::{today_in_japan, JAPAN};
pub use household::{
    Consent, EndReason, Household, Language, PendingQuestion, Registration, RegistrationStatus,
    Subject,
};
pub use ids::{LineUserId, MunicipalityId, ParseIdError};
pub use message::{Action, Message, QuickReply, QuickReplyItem};
