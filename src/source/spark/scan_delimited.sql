-- The head of the scan of CSV or TSV files windowpane sends to a Spark
-- cluster (`--spark`): every data row of the files of the view {{VIEW}}
-- (read with their header row, RFC 4180 quoting, every cell as text), its
-- time cell {{TIME_COLUMN}} and action cell {{ACTION_COLUMN}} taken as the
-- local reader takes them, up to the CTE `typed` that scan_tail.sql reads
-- on from: a time in the forms of a JSON time or number, a non-empty
-- action. A row of white space only is blank, neither an event nor
-- rejected; a row without the cell (fewer fields than the header) is
-- rejected. A row's text is its cells joined by the delimiter.
WITH cells AS (
  SELECT
    input_file_name() AS file,
    {{TIME_COLUMN}} AS tv,
    {{ACTION_COLUMN}} AS av,
    concat_ws({{DELIMITER}}, *) AS line,
    {{BLANK}} AS blank
  FROM {{VIEW}}
),
typed AS (
  SELECT
    file,
    line,
    CAST(NULL AS BIGINT) AS time_secs,
    CASE WHEN tv RLIKE {{WHOLE}} THEN bigint(tv) END AS time_int,
    CASE WHEN tv RLIKE {{NUMBER}} AND NOT tv RLIKE {{WHOLE}} THEN double(tv) END AS time_frac,
    CASE WHEN NOT tv RLIKE {{NUMBER}} THEN tv END AS time_text,
    av AS action,
    CASE
      WHEN tv IS NULL THEN '`{{TIME_NAME}}` is missing'
      WHEN tv = '' THEN '`{{TIME_NAME}}` is empty'
    END AS pre_reason,
    CASE WHEN av IS NULL THEN '`{{ACTION_NAME}}` is missing' END AS action_reason,
    '`{{ACTION_NAME}}` is empty' AS empty_action
  FROM cells
  WHERE NOT blank
),
