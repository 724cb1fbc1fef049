//! One module per subcommand.

pub mod content;
pub mod preview;
