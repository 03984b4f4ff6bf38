-- The scan windowpane sends to a Spark cluster (`--spark`): every line of
-- the input files (the view windowpane_lines, one row per line, and
-- windowpane_files, one row per file) checked against the line rules of
-- the metrics contract, and folded into counts per (action, minute window
-- start). Integer times count {{UNIT}} units per second (--time-unit); a
-- time with a fraction counts the same and is cut down to the second. The
-- event's fields are at {{TIME_PATH}} and {{ACTION_PATH}} (--time-field,
-- --action-field); a number or a boolean action is named by its JSON text.
--
-- Rows of the result, by `kind`:
--   'm'  one per (action, minute): events, earliest and latest event second
--   'r'  one per reason of rejection: lines, and one of them with its file
--   'f'  one per input file: its path (as the cluster names it)
-- Blank lines (only white space) are neither events nor rejected.
WITH kept AS (
  SELECT
    input_file_name() AS file,
    -- a byte order mark is not part of the line
    CASE WHEN startswith(value, '\uFEFF') THEN substr(value, 2) ELSE value END AS line
  FROM windowpane_lines
),
-- almost every line has the exact form {"time":N,"action":"A"} (no
-- spaces, no escapes in A): such lines are taken apart without a JSON
-- parser; every other line goes through one
shaped AS (
  SELECT
    file,
    line,
    {{CANONICAL}} AND line RLIKE '^\\{"time":-?(0|[1-9][0-9]{0,17}),"action":"[^"\\\\\\x00-\\x1f]+"\\}\\z' AS canonical
  FROM kept
),
parsed AS (
  SELECT
    file,
    line,
    canonical,
    NOT canonical AND octet_length(line) > 1048576 AS too_long,
    -- the JSON parser stops at the end of the first value and ignores what
    -- follows it; inside an object and inside an array, what follows can
    -- only be a syntax error (one of the two catches a stray } or ])
    CASE
      WHEN NOT canonical AND octet_length(line) <= 1048576 AND try_parse_json('[' || line || ']') IS NOT NULL
        THEN try_variant_get(try_parse_json('{"k":' || line || '}'), '$.k', 'variant')
    END AS v
  FROM shaped
  WHERE canonical OR NOT line RLIKE '^[ \\t\\n\\f\\r]*\\z'
),
fields AS (
  SELECT
    file,
    line,
    canonical,
    too_long,
    v,
    CASE WHEN NOT canonical THEN try_variant_get(v, '{{TIME_PATH}}', 'variant') END AS tv,
    CASE WHEN NOT canonical THEN try_variant_get(v, '{{ACTION_PATH}}', 'variant') END AS av,
    CASE WHEN canonical THEN instr(line, ',"action":"') END AS comma
  FROM parsed
),
typed AS (
  SELECT
    *,
    CASE WHEN canonical THEN 'BIGINT' ELSE schema_of_variant(tv) END AS time_type,
    CASE
      WHEN canonical THEN bigint(substr(line, 9, comma - 9))
      WHEN schema_of_variant(tv) = 'BIGINT' THEN try_variant_get(tv, '$', 'bigint')
    END AS time_int,
    CASE WHEN NOT canonical AND schema_of_variant(tv) = 'STRING' THEN try_variant_get(tv, '$', 'string') END AS time_text,
    -- a time with a fraction (or too large an integer): as a double
    CASE
      WHEN NOT canonical AND (schema_of_variant(tv) IN ('DOUBLE', 'FLOAT') OR startswith(schema_of_variant(tv), 'DECIMAL'))
        THEN try_variant_get(tv, '$', 'double')
    END AS time_frac,
    CASE
      WHEN canonical THEN substr(line, comma + 11, length(line) - comma - 12)
      WHEN schema_of_variant(av) = 'STRING' THEN try_variant_get(av, '$', 'string')
      -- a number or a boolean: its JSON text
      WHEN schema_of_variant(av) IN ('BIGINT', 'DOUBLE', 'FLOAT', 'BOOLEAN') OR startswith(schema_of_variant(av), 'DECIMAL')
        THEN to_json(av)
    END AS action
  FROM fields
),
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
      WHEN too_long THEN 'the line is longer than 1 MiB'
      WHEN NOT canonical AND v IS NULL THEN 'not valid JSON'
      WHEN NOT canonical AND NOT startswith(schema_of_variant(v), 'OBJECT') THEN 'not a JSON object'
      WHEN NOT canonical AND tv IS NULL THEN '`{{TIME_NAME}}` is missing'
      WHEN time_type NOT IN ('BIGINT', 'STRING') AND time_frac IS NULL THEN '`{{TIME_NAME}}` is not a number or a string'
      WHEN (time_int IS NOT NULL OR time_frac IS NOT NULL) AND t IS NULL THEN '`{{TIME_NAME}}` is out of range'
      WHEN t IS NULL THEN '`{{TIME_NAME}}` is not a timestamp'
      WHEN t NOT BETWEEN -62135596800 AND 253402300799 THEN '`{{TIME_NAME}}` is out of range'
      WHEN NOT canonical AND av IS NULL THEN '`{{ACTION_NAME}}` is missing'
      WHEN action IS NULL THEN '`{{ACTION_NAME}}` is not a string, a number or a boolean'
      WHEN action = '' THEN '`{{ACTION_NAME}}` is an empty string'
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
SELECT 'f', path, NULL, 1, NULL, NULL, NULL, NULL FROM windowpane_files
