use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match windowpane::Cli::try_parse() {
        Ok(cli) => cli,
        // help and version, and the help a bare `windowpane` shows
        Err(e) if !e.use_stderr() || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            e.exit()
        }
        Err(e) => {
            // a usage error in the style of every other error, followed by
            // clap's usage lines and hint
            let text = e.render().to_string();
            eprint!("windowpane: error: {}", text.strip_prefix("error: ").unwrap_or(&text));
            return ExitCode::from(2);
        }
    };
    let outcome = windowpane::run(cli);
    // warnings kept while a view owned the screen, even when the run failed
    windowpane::text::release_notices();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // file names and data in a message are shown escaped, never obeyed
            let message = format!("{e:#}");
            eprintln!("windowpane: error: {}", windowpane::text::printable_lines(&message));
            ExitCode::from(windowpane::exit_status(&e))
        }
    }
}
