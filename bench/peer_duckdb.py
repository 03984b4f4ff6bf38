#!/usr/bin/env python3
"""The batch figures of windowpane's contract computed by DuckDB SQL, as a
peer to time against: minute and hourly counts, totals, hourly average and
peak hour, variance, Open/Close alerts and the 30-minute moving average
over the minutes whose trailing window holds an event.

    pip install duckdb
    python3 bench/peer_duckdb.py FOLDER      # prints a one-line summary

Reads FOLDER/*.json (valid lines of {"time": epoch seconds, "action": ...}),
or FOLDER/*.csv or FOLDER/*.parquet (columns time and action) when the
folder holds those.
"""
import glob
import sys

import duckdb

folder = sys.argv[1]
if glob.glob(f"{folder}/*.parquet"):
    source = f"read_parquet('{folder}/*.parquet')"
elif glob.glob(f"{folder}/*.csv"):
    source = f"read_csv('{folder}/*.csv', header = true, columns = {{'time': 'BIGINT', 'action': 'VARCHAR'}})"
else:
    source = (
        f"read_json('{folder}/*.json', format = 'newline_delimited', "
        f"columns = {{'time': 'BIGINT', 'action': 'VARCHAR'}})"
    )
con = duckdb.connect()
con.execute(
    f"""
    create table m as
    select action, (time // 60) * 60 as ws, count(*)::bigint as c
    from {source}
    group by all
    """
)
hourly = con.execute("select max(s), min(s) from (select sum(c) s from m group by action, (ws // 3600))").fetchone()
totals = con.execute("select action, sum(c) from m group by action order by action").fetchall()
peak = con.execute(
    """
    select h, avg(mm) a from (select ws, (ws // 3600) * 3600 h, avg(c) mm from m group by ws)
    group by h order by a desc, h limit 1
    """
).fetchone()
variance = con.execute("select var_samp(c), count(*) from m").fetchone()
alerts = con.execute(
    """
    select count(*) from (
      select ws, sum(c) filter (action = 'Open') - coalesce(sum(c) filter (action = 'Close'), 0) d
      from m where action in ('Open', 'Close') group by ws)
    where abs(coalesce(d, 0)) > 20
    """
).fetchone()
# the grid: each event minute and the 29 after it, up to the last minute
moving = con.execute(
    """
    with mins as (select distinct ws from m),
    last as (select max(ws) l from m),
    grid as (select distinct g.ws + k * 60 as ws from mins g, range(30) r(k), last
             where g.ws + k * 60 <= last.l),
    acts as (select distinct action from m),
    dense as (select a.action, g.ws, coalesce(m.c, 0) c
              from grid g cross join acts a left join m on m.action = a.action and m.ws = g.ws)
    select count(*), sum(ma) from (
      select sum(c) over (partition by action order by ws
                          range between 1740 preceding and current row)
             / least(30, (ws - (select min(ws) from m)) // 60 + 1) ma
      from dense)
    """
).fetchone()
print(
    f"minute_rows={variance[1]} hourly_max={hourly[0]} hourly_min={hourly[1]} totals={totals} "
    f"peak={peak} variance={variance[0]} alerts={alerts[0]} moving_rows={moving[0]}"
)
