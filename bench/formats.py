#!/usr/bin/env python3
"""The input formats benchmark: 10 million events as 500 NDJSON, CSV and
Parquet files, and as NDJSON with renamed, nested fields, each read by
windowpane's batch and by the DuckDB and Python Polars peers in one run.

    pip install duckdb polars      # the peers; DuckDB also converts the files
    python3 bench/formats.py [--runs 3] [--data DIR]

Makes (once, kept in --data): json/ (`windowpane generate --files 500
--events 10000000`), then csv/, parquet/ (snappy, as Spark writes it) and
nested/ (`{"ts": ..., "payload": {"type": ...}}`) with the same events,
file by file. Prints one Markdown table: median wall time and peak memory.
"""
import argparse, os, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from history import ROOT, build, generated, median_run, size_mb  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "windowpane-formats")
    a = ap.parse_args()
    import duckdb

    exe = build()
    d = a.data
    json = generated(exe, d / "json", "--files", "500", "--events", "10000000")
    con = duckdb.connect()
    kinds = {
        "csv": ("csv", "select time, action from {src}", "(format csv, header true)"),
        "parquet": ("parquet", "select time, action from {src}", "(format parquet, compression snappy)"),
        "nested": ("json", "select time as ts, {{'type': action}} as payload from {src}", "(format json)"),
    }
    for kind, (ext, query, options) in kinds.items():
        out = d / kind
        if (out / f"file-499.{ext}").exists():
            continue
        out.mkdir(parents=True, exist_ok=True)
        for f in sorted(json.glob("file-*.json")):
            src = f"read_json('{f}', format = 'newline_delimited', columns = {{'time': 'BIGINT', 'action': 'VARCHAR'}})"
            target = out / f"{f.stem}.{ext}"
            con.execute(f"copy ({query.format(src=src)}) to '{target}' {options}")
    peers = {
        "DuckDB": [sys.executable, ROOT / "bench" / "peer_duckdb.py"],
        "Polars": [sys.executable, ROOT / "bench" / "peer_polars.py"],
    }
    print("| input (500 files, 10M events) | size | windowpane | DuckDB | Polars (Python) | vs DuckDB |")
    print("|---|---|---|---|---|---|")
    base = None
    for kind in ("json", "csv", "parquet", "nested"):
        folder = d / kind
        cmd = [exe, "batch", folder, "--no-report", "--format", "summary"]
        if kind == "nested":
            cmd += ["--time-field", "ts", "--action-field", "payload.type"]
        ours = median_run(cmd, a.runs)
        cells = [kind, f"{size_mb(folder):.0f} MB", f"{ours[0]:.3f} s, {ours[1]:.0f} MB"]
        duck = None
        for name, peer in peers.items():
            if kind == "nested":
                cells.append("–")
                continue
            theirs = median_run([*peer, folder], a.runs)
            duck = theirs if name == "DuckDB" else duck
            cells.append(f"{theirs[0]:.3f} s, {theirs[1]:.0f} MB")
        if kind == "json":
            base = ours[0]
        cells.append(f"{ours[0] / duck[0]:.2f}" if duck else f"{ours[0] / base:.2f} of flat JSON")
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
