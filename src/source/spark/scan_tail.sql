-- The shared part of the scans windowpane sends to a Spark cluster
-- (`--spark`), after a head (scan_json.sql, scan_parquet.sql) that ends
-- with the CTE `typed`: one row per input row with file, line (its text),
-- time_secs, time_int (in {{UNIT}} units per second), time_frac, time_text,
-- action, pre_reason, action_reason and empty_action. Integer times count
-- {{UNIT}} units per second (--time-unit); a time with a fraction counts
-- the same and is cut down to the second.
--
-- Rows of the result, by `kind`:
--   'm'  one per (action, minute): events, earliest and latest event second
--   'r'  one per reason of rejection: lines, and one of them with its file
--   'f'  one per input file (the view {{FILES}}): its path as the cluster names
--        it, with its size and modification time as `first` and `last`
-- an RFC 3339 time (or the near forms the local reader takes: a space or
-- `t` for `T`, `z`, offsets +hh, +hhmm, +hh:mm, no zone, no seconds),
-- taken apart
stamped AS (
  SELECT
    *,
    time_text RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?\\z' AS stamp
  FROM typed
),
parts AS (
  SELECT
    *,
    CASE WHEN stamp THEN int(substr(time_text, 1, 4)) END AS y,
    CASE WHEN stamp THEN int(substr(time_text, 6, 2)) END AS mo,
    CASE WHEN stamp THEN int(substr(time_text, 9, 2)) END AS d,
    CASE WHEN stamp THEN int(substr(time_text, 12, 2)) END AS h,
    CASE WHEN stamp THEN int(substr(time_text, 15, 2)) END AS mi,
    CASE WHEN stamp AND substr(time_text, 17, 1) = ':' THEN int(substr(time_text, 18, 2)) ELSE 0 END AS s,
    CASE WHEN stamp THEN regexp_extract(time_text, '([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)\\z', 1) ELSE '' END AS zone
  FROM stamped
),
zoned AS (
  SELECT
    *,
    CASE WHEN length(zone) > 1 THEN int(substr(zone, 2, 2)) ELSE 0 END AS zh,
    CASE WHEN length(zone) > 3 THEN int(right(zone, 2)) ELSE 0 END AS zm
  FROM parts
),
timed AS (
  SELECT
    *,
    CASE
      WHEN time_secs IS NOT NULL THEN time_secs
      WHEN time_int IS NOT NULL THEN
        CASE
          WHEN time_int BETWEEN -62135596800 * {{UNIT}} AND 253402300800 * {{UNIT}} - 1
            THEN (time_int - pmod(time_int, {{UNIT}})) div {{UNIT}}
        END
      WHEN time_frac IS NOT NULL THEN
        CASE
          WHEN floor(time_frac / {{UNIT}}) BETWEEN -62135596800 AND 253402300799
            THEN bigint(floor(time_frac / {{UNIT}}))
        END
      WHEN stamp AND mo BETWEEN 1 AND 12 AND h <= 23 AND mi <= 59 AND s <= 60 AND zh <= 23 AND zm <= 59
        AND d BETWEEN 1 AND day(last_day(make_date(y, mo, 1))) THEN
        bigint(unix_date(make_date(y, mo, d))) * 86400 + h * 3600 + mi * 60 + least(s, 59)
          - CASE WHEN startswith(zone, '-') THEN -1 ELSE 1 END * (zh * 3600 + zm * 60)
    END AS t
  FROM zoned
),
checked AS (
  SELECT
    file,
    line,
    action,
    t,
    CASE
      WHEN pre_reason IS NOT NULL THEN pre_reason
      WHEN (time_int IS NOT NULL OR time_frac IS NOT NULL) AND t IS NULL THEN '`{{TIME_NAME}}` is out of range'
      WHEN t IS NULL THEN '`{{TIME_NAME}}` is not a timestamp'
      WHEN t NOT BETWEEN -62135596800 AND 253402300799 THEN '`{{TIME_NAME}}` is out of range'
      WHEN action_reason IS NOT NULL THEN action_reason
      WHEN action = '' THEN empty_action
      WHEN octet_length(action) > 1024 THEN '`{{ACTION_NAME}}` is longer than 1 KiB'
    END AS reason
  FROM timed
)
SELECT
  CASE WHEN reason IS NULL THEN 'm' ELSE 'r' END AS kind,
  coalesce(reason, action) AS name,
  CASE WHEN reason IS NULL THEN t - pmod(t, 60) END AS minute,
  count(*) AS n,
  min(t) AS first,
  max(t) AS last,
  any_value(file) AS file,
  any_value(left(line, 300)) AS text
FROM checked
GROUP BY 1, 2, 3
UNION ALL
-- a file's size and modification time (microseconds) as the scan found them
SELECT 'f', path, NULL, 1, length, unix_micros(modificationTime), NULL, NULL FROM {{FILES}}
