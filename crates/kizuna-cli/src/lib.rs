//! The `kizuna` operator tool as a library: every subcommand is a function over already built
//! adapters (so the integration tests run it in-process against moto) plus a thin clap wrapper
//! that builds those adapters from the environment (`kizuna_aws::Config::from_env`).

pub mod commands;
pub mod flyer;
pub mod funnel;
pub mod qr;
pub mod suppression;
