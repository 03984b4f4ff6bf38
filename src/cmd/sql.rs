//! `windowpane sql`: SQL queries over the figures of an events folder.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::batch::FigureArgs;
use crate::metrics;
use crate::output::frame::{self, FrameFormat};
use crate::output::terminal::thousands;
use crate::source::{self, FileOrder};
use crate::sql::{self, Session, VIEWS};

/// Run SQL over the figures of a folder of NDJSON events.
///
/// Reads INPUT as `batch` does and registers every figure as a view of a
/// Polars SQL context:
///
///   events          time, action (one row per valid event)
///   minute_counts   action, window_start, window_end, count
///   hourly_counts   action, window_start, window_end, count
///   totals          action, total_count
///   hourly_average  window_start, window_end, average
///   moving_average  action, window_start, count, moving_average, moving_variance
///   alerts          window_start, window_end, open, close, difference
///   rejected        file, line, reason, text (the lines that are not events)
///
/// The exercise's names work too: static_input (events), counts and
/// static_counts (minute_counts), static_counts_hourly (hourly_counts),
/// static_mean (hourly_average). A window is two columns, window_start and
/// window_end (UTC): write the exercise's `window.start` as `window_start`.
///
/// INPUT is read as `batch` reads it: folders (searched recursively),
/// files, patterns, - for standard input; several may be given.
///
/// The query is the last argument, or the statements of -f FILE, or of
/// standard input when it is not a terminal (and not the input). Without any, on a terminal, an
/// interactive prompt opens (statements end with `;`, history is kept,
/// .help lists its commands). A single argument that names an existing
/// folder or file is the INPUT; otherwise it is the query.
///
/// Examples:
///   windowpane sql "select action, sum(count) as total from counts group by action"
///   windowpane sql data/events -f queries.sql --format csv
///   windowpane sql        (a prompt; .tables lists the views)
///
/// Exit status: 0 on success, 1 when the input cannot be read, 2 when a
/// query fails (its message and the query are printed) or on a usage error.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Inputs as for `batch` [default: data/events], then the SQL query (one
    /// or more statements separated by `;`). The last argument is the query
    /// unless it names an existing path, is -, or a pattern that matches.
    #[arg(value_name = "INPUT... QUERY")]
    pub positional: Vec<String>,
    /// Read the statements from this file instead.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// How to print results.
    #[arg(long, value_enum, default_value_t = FrameFormat::Table)]
    pub format: FrameFormat,
    /// Rows a table shows at most, half from the start and half from the end (0: all).
    #[arg(long, default_value_t = 40, value_name = "N")]
    pub max_rows: usize,
    /// The order in which files are taken.
    #[arg(long, value_enum, default_value_t = FileOrder::Name)]
    pub order: FileOrder,
    #[command(flatten)]
    pub figures: FigureArgs,
    #[command(flatten)]
    pub read: source::ReadArgs,
}

/// True when a positional argument names an input rather than a query.
fn names_input(arg: &str) -> bool {
    arg == source::STDIN
        || Path::new(arg).exists()
        || (!arg.contains(char::is_whitespace)
            && arg.contains(['*', '?', '['])
            && source::Inputs::from_args(&[arg]).list_files(FileOrder::Name).is_ok())
}

/// Where the statements come from.
enum Statements {
    Script(String),
    Prompt,
}

impl Args {
    /// The inputs and the statements, from the positional arguments.
    fn resolve(&self) -> Result<(Vec<String>, Statements)> {
        let mut inputs = self.positional.clone();
        let query = match inputs.last() {
            Some(last) if self.file.is_none() && !names_input(last) => inputs.pop(),
            _ => None,
        };
        if query.is_some() && self.file.is_some() {
            anyhow::bail!("give the statements either as the last argument or with -f FILE, not both");
        }
        if inputs.is_empty() {
            inputs.push("data/events".into());
        }
        let stdin_is_input = inputs.iter().any(|i| i == source::STDIN);
        let statements = match (query, &self.file) {
            (Some(q), _) => Statements::Script(q),
            (None, Some(file)) => Statements::Script(
                std::fs::read_to_string(file)
                    .with_context(|| format!("cannot read the SQL file {}", file.display()))?,
            ),
            (None, None) if stdin_is_input => anyhow::bail!(
                "standard input (-) is the input here, so the statements cannot come from it too: give the query as the last argument or with -f FILE"
            ),
            (None, None) if std::io::stdin().is_terminal() => Statements::Prompt,
            (None, None) => {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("cannot read the statements from standard input")?;
                Statements::Script(text)
            }
        };
        Ok((inputs, statements))
    }
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let (mut arguments, statements) = args.resolve()?;
    // the events view reads the files again: standard input is kept in a
    // temporary file for it, removed when the session ends
    let spool = match arguments.iter().position(|a| a == source::STDIN) {
        Some(i) => {
            let spool = source::Spool::stdin()?;
            arguments[i] = spool.path().display().to_string();
            Some(spool)
        }
        None => None,
    };
    let inputs = source::Inputs::from_args(&arguments);
    let input = PathBuf::from(inputs.display());
    let mut batch = super::batch::read_inputs(&inputs, args.order, &args.read.options(false), None)?;
    if let Some(spool) = &spool {
        spool.rename_in(&mut batch.rejected);
    }
    if !batch.rejected.is_empty() {
        eprintln!(
            "windowpane: {} of {} lines of {} are not valid events: they are in the view `rejected`, not in the figures",
            thousands(batch.rejected.len() as i64),
            thousands(batch.lines as i64),
            input.display()
        );
    }
    let figures = metrics::compute(&batch.counts, &args.figures.options())
        .with_context(|| format!("cannot compute the figures of {}", input.display()))?;
    let files = inputs.list_files(args.order)?.files;
    let mut session = Session::new(&figures, &batch.rejected, files)?.with_time_unit(args.read.time_unit);
    match statements {
        Statements::Script(text) => run_script(&mut session, &text, args.format, args.max_rows),
        Statements::Prompt => prompt(&mut session, &input, batch.counts.events(), args.format, args.max_rows),
    }
}

fn run_script(session: &mut Session, text: &str, format: FrameFormat, max_rows: usize) -> Result<()> {
    let statements = sql::split_statements(text);
    if statements.is_empty() {
        anyhow::bail!("no SQL statement given: pass a query, -f FILE, or statements on standard input");
    }
    for (i, statement) in statements.iter().enumerate() {
        let df = session.query(statement)?;
        let mut out = frame::render(&df, format, max_rows).context("cannot print the result")?;
        if i + 1 < statements.len() && format == FrameFormat::Table {
            out.push('\n');
        }
        crate::print_stdout(&out)?;
    }
    Ok(())
}

const PROMPT_HELP: &str = "\
Statements end with `;` and may span lines. Commands:
  .tables               the views, their other names and columns
  .format table|csv|json  how results are printed
  .help                 this text
  .quit                 leave (or Ctrl-D); Ctrl-C drops the statement being typed";

/// Where the prompt keeps its history: `$XDG_STATE_HOME/windowpane/` or
/// `~/.local/state/windowpane/`.
fn history_path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(state.join("windowpane").join("sql_history"))
}

fn describe_views(session: &mut Session) -> Result<String> {
    let mut out = String::new();
    for view in VIEWS {
        let columns = session.schema(view)?;
        let cols: Vec<String> = columns.iter().map(|(n, t)| format!("{n} {t}")).collect();
        let aliases = if view.aliases.is_empty() {
            String::new()
        } else {
            format!(" (also {})", view.aliases.join(", "))
        };
        out.push_str(&format!(
            "{}{aliases}: {}\n    {}\n",
            view.name,
            view.about,
            cols.join(", ")
        ));
    }
    Ok(out)
}

fn prompt(session: &mut Session, input: &Path, events: u64, format: FrameFormat, max_rows: usize) -> Result<()> {
    use rustyline::error::ReadlineError;
    let mut editor = rustyline::DefaultEditor::new().context("cannot open the interactive prompt")?;
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!(
        "windowpane sql over {} ({} events). End statements with `;`; .help for help, .quit to leave.",
        input.display(),
        thousands(events as i64)
    );
    let mut format = format;
    let mut buffer = String::new();
    loop {
        let line = match editor.readline(if buffer.is_empty() { "sql> " } else { " ..> " }) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e).context("cannot read from the terminal"),
        };
        if buffer.is_empty() && line.trim_start().starts_with('.') {
            let _ = editor.add_history_entry(line.trim());
            let mut words = line.split_whitespace();
            match (words.next().unwrap_or(""), words.next()) {
                (".quit" | ".exit" | ".q", _) => break,
                (".help", _) => println!("{PROMPT_HELP}"),
                (".tables", _) => match describe_views(session) {
                    Ok(text) => print!("{text}"),
                    Err(e) => eprintln!("error: {e:#}"),
                },
                (".format", Some(f)) => match <FrameFormat as clap::ValueEnum>::from_str(f, true) {
                    Ok(f) => format = f,
                    Err(_) => eprintln!("error: expected .format table, csv or json"),
                },
                (other, _) => eprintln!("error: unknown command {other}; .help lists the commands"),
            }
            continue;
        }
        buffer.push_str(&line);
        buffer.push('\n');
        if !sql::is_complete(&buffer) {
            continue;
        }
        let _ = editor.add_history_entry(buffer.trim());
        for statement in sql::split_statements(&buffer) {
            match session
                .query(&statement)
                .and_then(|df| Ok(frame::render(&df, format, max_rows)?))
            {
                Ok(out) => print!("{out}"),
                Err(e) => eprintln!("error: {e:#}"),
            }
        }
        buffer.clear();
    }
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(h);
    }
    Ok(())
}
