//! `windowpane generate`: a deterministic event folder shaped like the
//! public sample the exercise uses.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::DateTime;
use rand_pcg::rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64;

/// Write a deterministic folder of NDJSON events.
///
/// Devices open and close: opens arrive at random (a Poisson process of
/// `--rate` opens an hour from `--start`), and each device closes after a
/// random delay (uniform, up to `--max-delay` minutes), so opens lead at the
/// start and closes trail at the end. All events are sorted by time and
/// cut into `--files` files of equal size, `file-0.json`, `file-1.json`, ...
/// The same options and seed always give the same bytes.
///
/// For tests and benchmarks, `--bad-lines` puts malformed lines of seven
/// kinds into every file, `--gzip-every` compresses every k-th file, and
/// `--extra-action` sprinkles a third action between opens and closes.
///
/// `--actions N` makes another shape, for many keys: single events of N
/// actions (`A01`, `A02`, ...), arriving at `--rate` events an hour, each
/// action drawn with a Zipf-like spread (action k has weight 1/k^`--zipf`,
/// so A01 is the busiest); `--active-hours 5-24` keeps them to those UTC
/// hours of each day, quiet the rest, as flights or shop orders are.
///
/// `--append` adds a new dump to a folder made this way: the files go on
/// from the highest `file-N` number there, and the events start one minute
/// after the folder's last event, with a seed derived from --seed and the
/// first new file's number, so the same folder and options always add the
/// same bytes.
///
/// Example: the repository's data/events is `windowpane generate data/events`;
/// `windowpane generate data/events --append --files 5 --events 10000` adds
/// file-50.json to file-54.json after it.
///
/// Exit status: 0 on success, 1 when the folder cannot be written (or holds
/// input files already, without --force or --append), 2 on a usage error.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The folder to write (created; must not hold input files already).
    pub out: PathBuf,
    /// Seed of the random generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of files.
    #[arg(long, default_value_t = 50)]
    pub files: usize,
    /// Number of events in all: Open and Close, half each, or with
    /// --actions spread over those actions.
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// Time of the first open, RFC 3339.
    #[arg(long, default_value = "2016-07-26T02:45:00Z")]
    pub start: String,
    /// Opens per hour.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Longest time in minutes between a device's open and its close.
    #[arg(long, default_value_t = 120.0)]
    pub max_delay: f64,
    /// Malformed lines to put into every file.
    #[arg(long, default_value_t = 0)]
    pub bad_lines: usize,
    /// Gzip every k-th file (`file-2.json.gz`, ... for k = 3); 0 for none.
    #[arg(long, default_value_t = 0)]
    pub gzip_every: usize,
    /// A third action some devices do between open and close.
    #[arg(long)]
    pub extra_action: Option<String>,
    /// Share of devices that do the extra action once.
    #[arg(long, default_value_t = 0.04)]
    pub extra_rate: f64,
    /// Single events of this many actions, `A01`, `A02`, ... (instead of
    /// devices that open and close), at --rate events an hour.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub actions: Option<u32>,
    /// With --actions: action k is drawn with weight 1/k^S (0 for equal
    /// shares).
    #[arg(long, default_value_t = 1.0, requires = "actions")]
    pub zipf: f64,
    /// Events only in these UTC hours of each day, FROM-TO (e.g. 5-24).
    #[arg(long, value_parser = parse_hours)]
    pub active_hours: Option<(u32, u32)>,
    /// Replace input files already in OUT.
    #[arg(long)]
    pub force: bool,
    /// Add the files to those already in OUT: the numbering and the timeline
    /// go on after them (--start is then the folder's last event + 1 minute).
    #[arg(long, conflicts_with_all = ["force", "start"])]
    pub append: bool,
}

/// Parses `FROM-TO`, hours of the day with FROM < TO <= 24.
fn parse_hours(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{text:?} is not a span of hours FROM-TO with 0 <= FROM < TO <= 24 (e.g. 5-24)");
    let (a, b) = text.split_once('-').ok_or_else(bad)?;
    let (a, b): (u32, u32) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if a >= b || b > 24 {
        return Err(bad());
    }
    Ok((a, b))
}

/// The seven kinds of malformed line, as real dumps have them.
const BAD_LINES: [&str; 7] = [
    "garbage line",
    "[1,2,3]",
    "{\"time\":",
    "{\"action\":\"Close\"}",
    "{\"time\":1469501107}",
    "{\"time\":null,\"action\":\"Open\"}",
    "{\"time\":\"not-a-time\",\"action\":\"Open\"}",
];

/// A uniform number in [0, 1).
fn uniform(rng: &mut Pcg64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// An exponential number of mean `mean`.
fn exponential(rng: &mut Pcg64, mean: f64) -> f64 {
    -(1.0 - uniform(rng)).ln() * mean
}

/// The events, sorted by time (stable, so equal times keep their order),
/// the first open at `--start`.
pub fn events(args: &Args) -> Result<Vec<(i64, String)>> {
    let start = DateTime::parse_from_rfc3339(&args.start)
        .with_context(|| {
            format!(
                "--start {:?} is not an RFC 3339 time (e.g. 2016-07-26T02:45:00Z)",
                args.start
            )
        })?
        .timestamp();
    events_from(args, start, args.seed)
}

/// The events with the first open at `start` (epoch seconds), drawn with `seed`.
fn events_from(args: &Args, start: i64, seed: u64) -> Result<Vec<(i64, String)>> {
    if args.rate <= 0.0 || args.max_delay < 0.0 || !(0.0..=1.0).contains(&args.extra_rate) {
        bail!("--rate must be positive, --max-delay not negative and --extra-rate between 0 and 1");
    }
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut out = Vec::with_capacity(args.events as usize + 16);
    let clock = Clock::new(start, args.active_hours);
    // time runs over the active hours only; the clock maps it to the day
    let mut t = clock.zero();
    let gap = 3600.0 / args.rate;
    if let Some(n) = args.actions {
        let names: Vec<String> = (1..=n)
            .map(|k| format!("A{k:0width$}", width = digits(n).max(2)))
            .collect();
        let mut cumulative = Vec::with_capacity(n as usize);
        let mut sum = 0.0;
        for k in 1..=n {
            sum += (k as f64).powf(-args.zipf);
            cumulative.push(sum);
        }
        for i in 0..args.events {
            if i > 0 {
                t += exponential(&mut rng, gap);
            }
            let u = uniform(&mut rng) * sum;
            let k = cumulative.partition_point(|&c| c <= u).min(n as usize - 1);
            out.push((clock.at(t), names[k].clone()));
        }
        return Ok(out);
    }
    for i in 0..args.events / 2 {
        if i > 0 {
            t += exponential(&mut rng, gap);
        }
        let delay = uniform(&mut rng) * args.max_delay * 60.0;
        out.push((clock.at(t), "Open".to_string()));
        out.push((clock.at(t + delay), "Close".to_string()));
        if let Some(extra) = &args.extra_action {
            if uniform(&mut rng) < args.extra_rate {
                out.push((clock.at(t + delay * uniform(&mut rng)), extra.clone()));
            }
        }
    }
    out.sort_by_key(|e| e.0);
    Ok(out)
}

/// The number of decimal digits of `n`.
fn digits(n: u32) -> usize {
    n.to_string().len()
}

/// Maps the running time to epoch seconds: all of the day (the time is
/// then epoch seconds already), or only the active hours of each UTC day
/// (the time counts active seconds from the first active moment at or
/// after `start`).
struct Clock {
    /// Midnight of `start`'s day, or `start` itself without active hours.
    origin: f64,
    /// Active seconds between `origin` and `start`.
    before: f64,
    hours: Option<(f64, f64)>,
}

impl Clock {
    fn new(start: i64, hours: Option<(u32, u32)>) -> Self {
        match hours {
            None => Clock {
                origin: start as f64,
                before: 0.0,
                hours: None,
            },
            Some((from, to)) => {
                let (from, to) = (from as f64 * 3600.0, to as f64 * 3600.0);
                let into_day = start.rem_euclid(86_400) as f64;
                Clock {
                    origin: (start - start.rem_euclid(86_400)) as f64,
                    before: (into_day - from).clamp(0.0, to - from),
                    hours: Some((from, to)),
                }
            }
        }
    }

    /// Where the running time starts: `start` itself without active
    /// hours (added to as it always was, so that the same options give
    /// the same bytes as before active hours existed).
    fn zero(&self) -> f64 {
        match self.hours {
            None => self.origin,
            Some(_) => 0.0,
        }
    }

    fn at(&self, t: f64) -> i64 {
        match self.hours {
            None => t as i64,
            Some((from, to)) => {
                let (length, t) = (to - from, t + self.before);
                let day = (t / length).floor();
                (self.origin + day * 86_400.0 + from + (t - day * length)) as i64
            }
        }
    }
}

/// Writes a file as the README asks writers to: under a hidden name in the
/// same folder, flushed, then renamed, so that a reader (a stream with
/// --follow) never takes it half-written.
fn write_file(path: &Path, body: &[u8], gzip: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let write = || -> std::io::Result<()> {
        // readable by all, as a file written plainly would be (the umask
        // applies at creation)
        use std::os::unix::fs::PermissionsExt;
        let mut aside = tempfile::Builder::new()
            .prefix(".generate-")
            .suffix(".tmp")
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(dir)?;
        if gzip {
            let mut enc = flate2::write::GzEncoder::new(aside.as_file_mut(), flate2::Compression::default());
            enc.write_all(body)?;
            enc.finish()?;
        } else {
            aside.write_all(body)?;
        }
        aside.as_file().sync_data()?;
        // refuses to replace a file that appeared meanwhile
        aside.persist_noclobber(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}

/// The number N of a generated file name, `file-N.json` or `file-N.json.gz`.
fn file_number(name: &str) -> Option<usize> {
    let rest = name.strip_prefix("file-")?;
    let digits = rest.strip_suffix(".json").or_else(|| rest.strip_suffix(".json.gz"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Where an appended dump starts: the first new file number and the time
/// of its first open (the folder's last event + 1 minute).
fn continuation(out: &std::path::Path, existing: &[crate::source::InputFile]) -> Result<(usize, i64)> {
    let next = existing
        .iter()
        .filter_map(|f| f.path.file_name().and_then(|n| n.to_str()).and_then(file_number))
        .max()
        .map_or(existing.len(), |n| n + 1);
    let progress = crate::progress::Progress::new(existing.len() as u64, "files");
    let read = crate::source::read_all(existing, 2, false, &progress);
    progress.finish();
    let batch = read.with_context(|| format!("cannot read {} to append after it", out.display()))?;
    let Some((_, last)) = batch.counts.time_range() else {
        bail!(
            "{} holds {} input files but no valid event to go on from; drop --append to start a new folder",
            out.display(),
            existing.len()
        );
    };
    Ok((next, last + 60))
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    if args.files == 0 {
        bail!("--files must be at least 1");
    }
    fs::create_dir_all(&args.out).with_context(|| format!("cannot create the folder {}", args.out.display()))?;
    let existing = crate::source::list_files(&args.out, crate::source::FileOrder::Name)?;
    if !existing.is_empty() && !args.force && !args.append {
        bail!(
            "{} already holds {} input files; choose an empty folder, add --append to add a new dump after them, or --force to replace them",
            args.out.display(),
            existing.len()
        );
    }
    let (first, events, seed) = if args.append && !existing.is_empty() {
        let (first, start) = continuation(&args.out, &existing)?;
        let seed = args.seed ^ (first as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (first, events_from(args, start, seed)?, seed)
    } else {
        if args.force {
            for f in &existing {
                fs::remove_file(&f.path).with_context(|| format!("cannot remove {}", f.path.display()))?;
            }
        }
        (0, events(args)?, args.seed)
    };
    let mut rng = Pcg64::seed_from_u64(seed ^ 0x5eed_bad0);
    let per_file = events.len().div_ceil(args.files).max(1);
    let mut written = Vec::with_capacity(args.files);
    for k in 0..args.files {
        let i = first + k;
        let chunk = events
            .get(k * per_file..((k + 1) * per_file).min(events.len()))
            .unwrap_or(&[]);
        let mut lines: Vec<String> = chunk
            .iter()
            .map(|(t, a)| {
                format!(
                    "{{\"time\":{t},\"action\":{}}}",
                    serde_json::to_string(a).expect("a string serialises")
                )
            })
            .collect();
        for _ in 0..args.bad_lines {
            let at = (uniform(&mut rng) * (lines.len() + 1) as f64) as usize;
            let kind = (uniform(&mut rng) * BAD_LINES.len() as f64) as usize;
            lines.insert(at.min(lines.len()), BAD_LINES[kind].to_string());
        }
        let mut body = lines.join("\n");
        body.push('\n');
        let gzip = args.gzip_every > 0 && i % args.gzip_every == args.gzip_every - 1;
        let name = if gzip {
            format!("file-{i}.json.gz")
        } else {
            format!("file-{i}.json")
        };
        let path = args.out.join(&name);
        if path.exists() {
            bail!(
                "{} exists already; generate writes no file over another (remove it, or use --force to start the folder again)",
                path.display()
            );
        }
        write_file(&path, body.as_bytes(), gzip)?;
        written.push(name);
    }
    let range = match (written.first(), written.last()) {
        (Some(a), Some(b)) if first > 0 => format!(
            " ({}, from {})",
            if a == b { a.clone() } else { format!("{a} to {b}") },
            events
                .first()
                .map_or(String::new(), |e| crate::output::timefmt::rfc3339(e.0))
        ),
        _ => String::new(),
    };
    eprintln!(
        "wrote {} event{}{} in {} file{} to {}{range}",
        events.len(),
        if events.len() == 1 { "" } else { "s" },
        if args.bad_lines > 0 {
            format!(" and {} malformed lines", args.bad_lines * args.files)
        } else {
            String::new()
        },
        args.files,
        if args.files == 1 { "" } else { "s" },
        args.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec!["g", "out"];
        argv.extend_from_slice(extra);
        Cli::parse_from(argv).args
    }

    #[test]
    fn same_seed_same_events_and_shape_of_the_sample() {
        let a = events(&args(&["--events", "2000"])).unwrap();
        assert_eq!(a, events(&args(&["--events", "2000"])).unwrap());
        assert_ne!(a, events(&args(&["--events", "2000", "--seed", "7"])).unwrap());
        assert_eq!(a.len(), 2000);
        assert_eq!(a.iter().filter(|e| e.1 == "Open").count(), 1000);
        assert!(a.windows(2).all(|w| w[0].0 <= w[1].0), "sorted by time");
        assert_eq!(a[0], (1469501100, "Open".to_string()), "starts at 02:45Z with an open");
        // opens lead at the start, closes trail at the end
        assert!(a[..100].iter().filter(|e| e.1 == "Open").count() > 80);
        assert!(a[a.len() - 100..].iter().filter(|e| e.1 == "Close").count() > 80);
    }

    #[test]
    fn many_actions_spread_as_zipf_within_the_active_hours() {
        let e = events(&args(&[
            "--events",
            "100000",
            "--actions",
            "16",
            "--zipf",
            "1",
            "--active-hours",
            "5-24",
            "--rate",
            "2000",
        ]))
        .unwrap();
        assert_eq!(e.len(), 100_000);
        assert!(e.windows(2).all(|w| w[0].0 <= w[1].0), "sorted by time");
        let hours: std::collections::BTreeSet<i64> = e.iter().map(|(t, _)| t.rem_euclid(86_400) / 3600).collect();
        assert_eq!(hours, (5..24).collect(), "every active hour and no other");
        let count = |a: &str| e.iter().filter(|x| x.1 == a).count() as f64;
        // weights 1/k: A01 has 1/H(16) = 29.5 % of the events, A16 1/16 of that
        assert!((count("A01") / 100_000.0 - 0.2950).abs() < 0.01, "{}", count("A01"));
        assert!(
            (count("A01") / count("A16") - 16.0).abs() < 2.0,
            "{}",
            count("A01") / count("A16")
        );
        assert!(parse_hours("24-5").is_err() && parse_hours("5-25").is_err() && parse_hours("5").is_err());
    }
}
