use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = windowpane::Cli::parse();
    match windowpane::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("windowpane: error: {e:#}");
            ExitCode::from(windowpane::exit_status(&e))
        }
    }
}
