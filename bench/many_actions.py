#!/usr/bin/env python3
"""The many-actions benchmark: what the report costs when the data has many
keys of very unequal rates, with DuckDB's batch figures on the same folders.

    pip install duckdb             # for the peer; without it, windowpane only
    python3 bench/many_actions.py [--runs 3] [--data DIR]

Makes (once, with `windowpane generate`, kept in --data):
  flights/      a year like a year of flight departures: 336,776 events of
                16 actions (Zipf spread 1.5), only 05:00-24:00 UTC, 12 files
  flights-days/ the same events in 365 daily files (for the rerun)
  month-200/    1,000,000 events of 200 actions over a month, 30 files
  actions-20k/  20,000 events of up to 20,000 actions over one day, 1 file
and prints one Markdown table: median wall time and peak memory.
"""
import argparse, os, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from history import Table, build, duckdb_peer, generated, median_run, rerun_after_last, run, size_mb, workspace  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "windowpane-many")
    a = ap.parse_args()

    exe = build()
    peer = duckdb_peer()
    d = a.data
    work = workspace(d)

    def generate(name, *options):
        return generated(exe, d / name, *options)

    table = Table()
    row = table.row

    flights_like = ["--events", "336776", "--actions", "16", "--zipf", "1.5", "--active-hours", "5-24",
                    "--rate", "48.6", "--start", "2013-01-01T00:00:00Z"]
    flights = generate("flights", "--files", "12", *flights_like)
    days = generate("flights-days", "--files", "365", *flights_like)
    month = generate("month-200", "--files", "30", "--events", "1000000", "--actions", "200", "--zipf", "1",
                     "--rate", "1389", "--start", "2024-03-01T00:00:00Z")
    many = generate("actions-20k", "--files", "1", "--events", "20000", "--actions", "20000", "--zipf", "0",
                    "--rate", "833", "--start", "2024-03-01T00:00:00Z")

    def batch(folder, *options):
        return [exe, "batch", folder, "--format", "summary", *options]

    for folder in (flights, month, many):
        run(batch(folder, "--no-report"))  # warm the page cache
    duck = median_run([*peer, flights], a.runs) if peer else None
    row("flights-like year, batch, no report", median_run(batch(flights, "--no-report"), a.runs), duck,
        "336,776 events, 16 actions")
    report = work / "flights-report"
    ours = median_run(batch(flights, "--report", report), a.runs)
    row("flights-like year, batch with report (CSV)", ours, note=f"report {size_mb(report):.0f} MB")
    preport = work / "flights-parquet"
    ours = median_run(batch(flights, "--report", preport, "--table-format", "parquet"), a.runs)
    row("flights-like year, batch with report (Parquet)", ours, note=f"report {size_mb(preport):.0f} MB")

    # the rerun after one new day: the report and checkpoint of 364 days,
    # made anew before each run (not timed), then the 365th
    update, restore = rerun_after_last(exe, days, work, "file-364.json")
    ours = median_run(update, a.runs, restore)
    row("flights-like year, rerun after one new day, with report", ours, note="`windowpane update`")

    duck = median_run([*peer, month], a.runs) if peer else None
    row("200 actions over a month, batch, no report", median_run(batch(month, "--no-report"), a.runs), duck,
        "1,000,000 events")
    mreport = work / "month-report"
    ours = median_run(batch(month, "--report", mreport), a.runs)
    row("200 actions over a month, batch with report", ours, note=f"report {size_mb(mreport):.0f} MB")

    duck = median_run([*peer, many], a.runs) if peer else None
    row("20,000 actions, 20,000 events, batch, no report", median_run(batch(many, "--no-report"), a.runs), duck)
    areport = work / "many-report"
    ours = median_run(batch(many, "--report", areport), a.runs)
    row("20,000 actions, 20,000 events, batch with report", ours, note=f"report {size_mb(areport):.0f} MB")

    table.print()


if __name__ == "__main__":
    main()
