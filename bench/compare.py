#!/usr/bin/env python3
"""Times `windowpane batch` end to end against peer implementations of the
same batch figures (DuckDB and Python Polars scripts), on the same folder,
alternating runs, and records each one's peak memory.

    python3 bench/compare.py [--events 10000000] [--files 500] [--runs 5]
                             [--peers DIR] [--data DIR]

--peers is the folder holding peer_duckdb.py and peer_polars.py (the peers
need `pip install duckdb polars`); without it only windowpane is timed.
The event folder is generated once with `windowpane generate` and reused.
Prints a Markdown table: median wall seconds, peak RSS, ratio to DuckDB.
"""
import argparse, os, resource, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd):
    """Wall seconds and peak RSS (MB) of one command, output discarded."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    if status != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{err}")
    return wall, usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--peers", type=Path, default=None)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "windowpane-bench")
    a = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    exe = os.environ.get("CARGO_TARGET_DIR", ROOT / "target")
    exe = Path(exe) / "release" / "windowpane"
    folder = a.data / f"events-{a.events}-{a.files}"
    if not (folder / f"file-{a.files - 1}.json").exists():
        subprocess.run([exe, "generate", folder, "--events", str(a.events), "--files", str(a.files), "--force"], check=True)

    tools = {"windowpane": [exe, "batch", folder, "--no-report", "--format", "summary"]}
    if a.peers:
        tools["DuckDB (peer_duckdb.py)"] = [sys.executable, a.peers / "peer_duckdb.py", folder]
        tools["Polars (peer_polars.py)"] = [sys.executable, a.peers / "peer_polars.py", folder]
    for cmd in tools.values():  # warm the page cache and the imports
        run(cmd)
    results = {name: [] for name in tools}
    for _ in range(a.runs):
        for name, cmd in tools.items():
            results[name].append(run(cmd))
    duck = statistics.median(w for w, _ in results.get("DuckDB (peer_duckdb.py)", [(None, 0)])) if a.peers else None
    print(f"{a.events:,} events in {a.files} files, {os.cpu_count()} cores, median of {a.runs} alternating runs\n")
    print("| tool | median wall (s) | min (s) | peak RSS (MB) | ratio to DuckDB |")
    print("|---|---|---|---|---|")
    for name, rs in results.items():
        walls = [w for w, _ in rs]
        med = statistics.median(walls)
        ratio = f"{med / duck:.2f}" if duck else "–"
        print(f"| {name} | {med:.3f} | {min(walls):.3f} | {max(m for _, m in rs):.0f} | {ratio} |")


if __name__ == "__main__":
    main()
