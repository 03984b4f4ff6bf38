-- The head of the scan of JSON lines windowpane sends to a Spark cluster
-- (`--spark`): every line of the input files (the view windowpane_lines,
-- one row per line) taken apart with the line rules of the metrics
-- contract, up to the CTE `typed` that scan_tail.sql reads on from. The
-- event's fields are at {{TIME_PATH}} and {{ACTION_PATH}} (--time-field,
-- --action-field); a number or a boolean action is named by its JSON text.
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
json_typed AS (
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
-- what the shared part reads: the time as an integer in the unit
-- (time_int), with a fraction (time_frac), as text (time_text) or in
-- seconds already (time_secs), the action as text, and the reasons found
-- before the time is read (pre_reason) and about the action's field
-- (action_reason)
typed AS (
  SELECT
    file,
    line,
    CAST(NULL AS BIGINT) AS time_secs,
    time_int,
    time_frac,
    time_text,
    action,
    CASE
      WHEN too_long THEN 'the line is longer than 1 MiB'
      WHEN NOT canonical AND v IS NULL THEN 'not valid JSON'
      WHEN NOT canonical AND NOT startswith(schema_of_variant(v), 'OBJECT') THEN 'not a JSON object'
      WHEN NOT canonical AND tv IS NULL THEN '`{{TIME_NAME}}` is missing'
      WHEN time_type NOT IN ('BIGINT', 'STRING') AND time_frac IS NULL THEN '`{{TIME_NAME}}` is not a number or a string'
    END AS pre_reason,
    CASE
      WHEN NOT canonical AND av IS NULL THEN '`{{ACTION_NAME}}` is missing'
      WHEN action IS NULL THEN '`{{ACTION_NAME}}` is not a string, a number or a boolean'
    END AS action_reason,
    '`{{ACTION_NAME}}` is an empty string' AS empty_action
  FROM json_typed
),
