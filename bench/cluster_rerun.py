#!/usr/bin/env python3
"""The cluster rerun benchmark: `update --spark` after one new daily file,
against `batch --spark` over every file, on a Spark Connect server.

    scripts/spark-connect-server.sh start
    WINDOWPANE_SPARK_URL=$(scripts/spark-connect-server.sh url) python3 bench/cluster_rerun.py [--runs 3] [--data DIR]

The server reads the files from this machine's file system (a server on
this machine). Makes (once, with `windowpane generate`, kept in --data):
  days/        a year of minute data and one more day: 1,756,800 events
               in 366 daily files
  many-files/  10,000 files of 10 events each
and prints one Markdown table: median wall time and peak memory of
windowpane (the cluster's own work is in the wall time, not the memory).
"""
import argparse, os, subprocess, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from history import build, generated, median_run, rerun_after_last, workspace  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "windowpane-cluster")
    a = ap.parse_args()
    url = os.environ.get("WINDOWPANE_SPARK_URL")
    if not url:
        sys.exit("set WINDOWPANE_SPARK_URL to a Spark Connect server (scripts/spark-connect-server.sh start; ... url)")

    exe = build()
    d = a.data
    work = workspace(d)
    days = generated(exe, d / "days", "--files", "366", "--events", "1756800", "--rate", "100")
    many = generated(exe, d / "many-files", "--files", "10000", "--events", "100000", "--rate", "100")
    rows = []

    def row(what, result, note=""):
        rows.append(f"| {what} | {result[0]:.3f} s, {result[1]:.0f} MB | {note} |")

    # the whole scan: batch --spark over the 366 files
    whole = median_run([exe, "batch", days, "--spark", url, "--no-report", "--format", "summary"], a.runs)
    row("batch --spark, 366 daily files", whole, "every file scanned on the cluster")

    # the rerun: the checkpoint and report of 365 days, made anew before
    # each run (not timed), then the 366th day
    update, restore = rerun_after_last(exe, days, work, "file-365.json", "--spark", url)
    rerun = median_run(update, a.runs, restore)
    row("update --spark after one new daily file, with report", rerun,
        f"{rerun[0] / whole[0]:.2f} of the whole scan")

    # the listing: 10,000 files processed before, none new
    ck2, rep2 = work / "ck-many", work / "report-many"
    subprocess.run([exe, "update", many, "--spark", url, "--report", rep2, "--checkpoint", ck2], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    listing = median_run([exe, "update", many, "--spark", url, "--checkpoint", ck2, "--no-report",
                          "--format", "summary"], a.runs)
    row("update --spark over 10,000 files, none new, no report", listing,
        "the listing on the cluster and the check of every stamp")

    print("| run | windowpane | notes |")
    print("|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
