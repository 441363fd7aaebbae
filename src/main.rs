//! The `leakhound` binary: parse arguments, dispatch, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use leakhound::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    let result = match &cli.command {
        Command::Scan(args) => cli::scan::run(args, cli.quiet),
        Command::Detectors(cmd) => cli::detectors::run(cmd),
        Command::Baseline(cli::BaselineCommand::Create(args)) => {
            cli::scan::create_baseline(args, cli.quiet)
        }
        Command::Repos(cli::ReposCommand::List(which)) => cli::remote::list(which, cli.quiet),
        Command::Findings(cmd) => cli::findings::run(cmd),
        Command::Merge(args) => cli::merge::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("leakhound: error: {err:#}");
            ExitCode::from(cli::EXIT_ERROR)
        }
    }
}

/// Logs go to stderr: warnings by default, errors only with `-q`, more with
/// `-v`; `RUST_LOG` overrides.
fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("leakhound={level}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}
