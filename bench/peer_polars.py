#!/usr/bin/env python3
"""The batch figures of windowpane's contract computed by Python Polars'
lazy engine, as a peer to time against: minute and hourly counts, totals,
hourly average and peak hour, variance, Open/Close alerts and the
30-minute moving average over the minutes whose trailing window holds an
event.

    pip install polars
    python3 bench/peer_polars.py FOLDER      # prints a one-line summary

Reads FOLDER/*.json (valid lines of {"time": epoch seconds, "action": ...}),
or FOLDER/*.csv or FOLDER/*.parquet (columns time and action).
"""
import glob
import sys

import polars as pl

folder = sys.argv[1]
schema = {"time": pl.Int64, "action": pl.String}
if files := sorted(glob.glob(f"{folder}/*.parquet")):
    events = pl.scan_parquet(files)
elif files := sorted(glob.glob(f"{folder}/*.csv")):
    events = pl.scan_csv(files, schema=schema)
else:
    events = pl.scan_ndjson(sorted(glob.glob(f"{folder}/*.json")), schema=schema)

minutes = (
    events.select(pl.col("action"), (pl.col("time") // 60 * 60).alias("ws"))
    .group_by("action", "ws")
    .agg(pl.len().cast(pl.Int64).alias("c"))
    .collect()
)
m = minutes.lazy()
hourly = m.group_by("action", pl.col("ws") // 3600).agg(pl.col("c").sum()).select(
    pl.col("c").max().alias("max"), pl.col("c").min().alias("min")
)
totals = m.group_by("action").agg(pl.col("c").sum()).sort("action")
peak = (
    m.group_by("ws")
    .agg(pl.col("c").mean().alias("mm"))
    .group_by(pl.col("ws") // 3600 * 3600)
    .agg(pl.col("mm").mean())
    .sort(["mm", "ws"], descending=[True, False])
    .head(1)
)
variance = m.select(pl.col("c").var(), pl.len())
diff = (
    m.filter(pl.col("action").is_in(["Open", "Close"]))
    .group_by("ws")
    .agg(
        (
            pl.col("c").filter(pl.col("action") == "Open").sum()
            - pl.col("c").filter(pl.col("action") == "Close").sum()
        ).alias("d")
    )
    .filter(pl.col("d").abs() > 20)
    .select(pl.len())
)
# the grid: each event minute and the 29 after it, up to the last minute
first, last = minutes["ws"].min(), minutes["ws"].max()
grid = (
    minutes.lazy()
    .select(pl.col("ws").unique())
    .select((pl.col("ws") + pl.int_ranges(0, 30) * 60).explode().alias("ws"))
    .unique()
    .filter(pl.col("ws") <= last)
)
actions = m.select(pl.col("action").unique())
moving = (
    grid.join(actions, how="cross")
    .join(m, on=["action", "ws"], how="left")
    .with_columns(pl.col("c").fill_null(0))
    .sort("action", "ws")
    .with_columns(
        # rows of the grid: between its stretches lie 29 minutes without
        # events, so 30 rows are the trailing 30 minutes
        pl.col("c").rolling_sum(30, min_samples=1).over("action").alias("s")
    )
    .with_columns((pl.col("s") / pl.min_horizontal(30, (pl.col("ws") - first) // 60 + 1)).alias("ma"))
    .select(pl.len(), pl.col("ma").sum())
)
h, t, p, v, a, mv = pl.collect_all([hourly, totals, peak, variance, diff, moving])
print(
    f"minute_rows={v[0, 1]} hourly_max={h[0, 0]} hourly_min={h[0, 1]} totals={t.rows()} "
    f"peak={p.rows()} variance={v[0, 0]} alerts={a[0, 0]} moving_rows={mv[0, 0]}"
)
