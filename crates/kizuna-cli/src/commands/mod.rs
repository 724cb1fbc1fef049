//! One module per subcommand.

pub mod content;
pub mod flyer;
pub mod forecast;
pub mod funnel_report;
pub mod household;
pub mod municipality;
pub mod notice;
pub mod ops;
pub mod preview;
pub mod richmenu;
pub mod runs;
pub mod send;
pub mod stats;
pub mod survey;
pub mod sync;
