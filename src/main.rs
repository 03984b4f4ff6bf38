use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = windowpane::Cli::parse();
    match windowpane::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // file names and data in a message are shown escaped, never obeyed
            let message = format!("{e:#}");
            eprintln!("windowpane: error: {}", windowpane::text::printable_lines(&message));
            ExitCode::from(windowpane::exit_status(&e))
        }
    }
}
