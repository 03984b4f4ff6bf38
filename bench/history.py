#!/usr/bin/env python3
"""The history benchmark: what a run costs as the time span held grows, and
what a rerun on a new dump costs, with DuckDB on the same folders.

    pip install duckdb             # for the peer; without it, windowpane only
    python3 bench/history.py [--runs 3] [--data DIR] [--skip-10m]

Makes (once, with `windowpane generate`, kept in --data):
  year/   a year of minute data: 1,752,000 events in 365 daily files
  long/   4,320,000 events in 300 files, replayed one file per trigger
  stray/  4,000 events, one at time 0 and one in year 9999
  10m/    10,000,000 events in 500 files over 14 months
  10m-days/  10,000,000 events in 500 files over 10 days (the no-regression check)
and prints one Markdown table: median wall time, peak memory, and sizes.
Every figure of the history issue is a row of it.
"""
import argparse, csv, os, shutil, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd, env=None):
    """Wall seconds and peak RSS (MB) of one command, output discarded.

    Written data is flushed first, so that a run does not pay for the
    writeback of the one before (a user's rerun comes long after the last).
    """
    os.sync()
    t0 = time.perf_counter()
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    if status != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{err}")
    return wall, usage.ru_maxrss / 1024


def median_run(cmd, runs, before=None):
    results = []
    for _ in range(runs):
        if before:
            before()
        results.append(run(cmd))
    return statistics.median(w for w, _ in results), max(m for _, m in results)


def size_mb(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total / 1e6


def build():
    """Builds the release binary and gives its path."""
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "windowpane"


def duckdb_peer():
    """The DuckDB peer's command, or None (said) when duckdb is missing."""
    try:
        import duckdb  # noqa: F401

        return [sys.executable, ROOT / "bench" / "peer_duckdb.py"]
    except ImportError:
        print("(duckdb is not installed: pip install duckdb for the peer column)\n")
        return None


def workspace(data):
    """The data folder `data` (kept between runs) and its `work/`, emptied."""
    data.mkdir(parents=True, exist_ok=True)
    work = data / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    return work


def generated(exe, folder, *options):
    """`folder`, made by `windowpane generate` with `options` unless it is there."""
    if not (folder / "file-0.json").exists():
        subprocess.run([exe, "generate", folder, "--force", *options], check=True, stderr=subprocess.DEVNULL)
    return folder


def rerun_after_last(exe, folder, work, last, *options):
    """A rerun after one new file, made ready before each timed run.

    `work/dump` holds every file of `folder` but `last` (hard links); the
    returned `restore` makes the checkpoint and report of those files anew
    with `windowpane update ... *options` (not timed) and then adds `last`.
    Returns the `update` command to time and `restore`.
    """
    dump, ck, rep = work / "dump", work / "ck", work / "dump-report"
    dump.mkdir()
    for f in sorted(folder.glob("file-*.json")):
        if f.name != last:
            os.link(f, dump / f.name)

    def restore():
        shutil.rmtree(ck, ignore_errors=True)
        shutil.rmtree(rep, ignore_errors=True)
        if (dump / last).exists():
            os.unlink(dump / last)
        subprocess.run([exe, "update", dump, *options, "--report", rep, "--checkpoint", ck], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.link(folder / last, dump / last)

    return [exe, "update", dump, *options, "--checkpoint", ck, "--report", rep, "--format", "summary"], restore


class Table:
    """The rows of a table of windowpane against DuckDB, printed as Markdown."""

    def __init__(self):
        self.rows = []

    def row(self, what, ours, duck=None, note=""):
        w, m = ours
        cells = [what, f"{w:.3f} s, {m:.0f} MB"]
        if duck:
            cells += [f"{duck[0]:.3f} s, {duck[1]:.0f} MB", f"{w / duck[0]:.2f}"]
        else:
            cells += ["–", "–"]
        cells.append(note)
        self.rows.append(cells)

    def print(self):
        print("| run | windowpane | DuckDB | ratio | notes |")
        print("|---|---|---|---|---|")
        for r in self.rows:
            print("| " + " | ".join(r) + " |")


def trigger_durations(report):
    with open(report / "tables" / "triggers.csv") as f:
        return [float(r["duration_ms"]) for r in csv.DictReader(f)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "windowpane-history")
    ap.add_argument("--skip-10m", action="store_true")
    a = ap.parse_args()

    exe = build()
    peer = duckdb_peer()
    d = a.data
    work = workspace(d)

    def generate(name, *options):
        return generated(exe, d / name, *options)

    table = Table()
    row = table.row

    year = generate("year", "--files", "365", "--events", "1752000", "--rate", "100")
    for cmd in ([exe, "batch", year, "--no-report", "--format", "summary"], peer and [*peer, year]):
        if cmd:
            run(cmd)  # warm the page cache
    ours = median_run([exe, "batch", year, "--no-report", "--format", "summary"], a.runs)
    duck = median_run([*peer, year], a.runs) if peer else None
    row("year, batch, no report", ours, duck, "1,752,000 events, 365 files")
    # each run but the first replaces the report of the run before, as a
    # user's batch on each new dump does
    report = work / "year-report"
    ours = median_run([exe, "batch", year, "--report", report, "--format", "summary"], a.runs)
    row("year, batch with report", ours, note=f"report {size_mb(report):.1f} MB")

    # a rerun after one new daily file: the checkpoint of 364 files, then the 365th
    dump = work / "dump"
    dump.mkdir()
    for f in sorted(year.glob("file-*.json")):
        if f.name != "file-364.json":
            os.link(f, dump / f.name)
    ck, saved = work / "ck", work / "ck-364"
    subprocess.run([exe, "update", dump, "--no-report", "--checkpoint", ck], check=True, stdout=subprocess.DEVNULL)
    shutil.copytree(ck, saved)
    os.link(year / "file-364.json", dump / "file-364.json")

    def restore():
        shutil.rmtree(ck)
        shutil.copytree(saved, ck)

    update = [exe, "update", dump, "--checkpoint", ck, "--format", "summary"]
    ours = median_run([*update, "--no-report"], a.runs, restore)
    row("year, rerun after one new file, no report", ours, note="`windowpane update`")

    # the same with the report: before each run, the report of the 364
    # files and its checkpoint are made anew by `update` (not timed), so
    # that the report's files are as a user's are: written by the run
    # before, linked nowhere else (the old report's files are removed or
    # extended by the rerun, which costs what it costs a user)
    rck, rep = work / "rck", work / "dump-report"

    def restore_report():
        shutil.rmtree(rck, ignore_errors=True)
        shutil.rmtree(rep, ignore_errors=True)
        os.unlink(dump / "file-364.json")
        subprocess.run([exe, "update", dump, "--report", rep, "--checkpoint", rck], check=True, stdout=subprocess.DEVNULL)
        os.link(year / "file-364.json", dump / "file-364.json")

    reupdate = [exe, "update", dump, "--checkpoint", rck, "--format", "summary", "--report", rep]
    ours = median_run(reupdate, a.runs, restore_report)
    row("year, rerun after one new file, with report", ours, note=f"checkpoint {size_mb(rck):.1f} MB")

    # the exercise's queries over the table a stream keeps: over the
    # checkpoint of the whole year, against the same query over the folder
    restore()
    subprocess.run([exe, "update", dump, "--no-report", "--checkpoint", ck], check=True, stdout=subprocess.DEVNULL)
    for query, view in [("select count(*) from counts", "count(*)"), ("select * from alerts", "alerts")]:
        ours = median_run([exe, "sql", "--checkpoint", ck, query], a.runs)
        folder = median_run([exe, "sql", dump, query], a.runs)
        row(
            f"year, `sql --checkpoint`, {view}",
            ours,
            note=f"{ours[0] / folder[0]:.2f} of the same query over the folder ({folder[0]:.3f} s, {folder[1]:.0f} MB)",
        )

    # the 90-day replay, one file per trigger
    long = generate("long", "--files", "300", "--events", "4320000")
    lr, lck = work / "long-report", work / "long-ck"
    ours = run([exe, "stream", long, "-q", "--checkpoint", lck, "--report", lr, "--format", "summary"])
    durations = trigger_durations(lr)
    first, last = statistics.median(durations[:50]), statistics.median(durations[-50:])
    row(
        "long, replay one file per trigger, report at the end",
        ours,
        note=f"median trigger: first 50 {first:.1f} ms, last 50 {last:.1f} ms ({last / first:.2f}×)",
    )
    ours = median_run([exe, "batch", long, "--no-report", "--format", "summary"], a.runs)
    duck = median_run([*peer, long], a.runs) if peer else None
    row("long, batch, no report", ours, duck, "4,320,000 events, 300 files")

    # stray times
    stray = generate("stray", "--files", "4", "--events", "4000")
    (stray / "file-4.json").write_text(
        '{"time":0,"action":"Open"}\n{"time":253402300799,"action":"Close"}\n'
    )
    sr = work / "stray-report"
    ours = median_run([exe, "batch", stray, "--report", sr, "--format", "summary"], a.runs)
    row("stray times, batch with report", ours, note=f"report {size_mb(sr):.2f} MB; one event in 1970, one in 9999")

    if not a.skip_10m:
        big = generate("10m", "--files", "500", "--events", "10000000")
        run([exe, "batch", big, "--no-report", "--format", "summary"])
        ours = median_run([exe, "batch", big, "--no-report", "--format", "summary"], a.runs)
        duck = median_run([*peer, big], a.runs) if peer else None
        row("10M events, batch, no report", ours, duck, "500 files, 14 months")
        days = generate("10m-days", "--files", "500", "--events", "10000000", "--rate", "41667")
        run([exe, "batch", days, "--no-report", "--format", "summary"])
        ours = median_run([exe, "batch", days, "--no-report", "--format", "summary"], a.runs)
        duck = median_run([*peer, days], a.runs) if peer else None
        row("10M events over 10 days, batch, no report", ours, duck, "500 files")

    er, eck = work / "events-report", work / "events-ck"
    ours = run([exe, "stream", ROOT / "data" / "events", "-q", "--checkpoint", eck, "--report", er, "--format", "summary"])
    med = statistics.median(trigger_durations(er))
    row("data/events, replay one file per trigger", ours, note=f"median trigger {med:.2f} ms")

    print(f"{os.cpu_count()} cores, median of {a.runs} runs where repeated\n")
    table.print()


if __name__ == "__main__":
    main()
