-- The head of the scan of Parquet files windowpane sends to a Spark
-- cluster (`--spark`): every row of the files of the view
-- windowpane_parquet, its time column {{TIME_COLUMN}} and its action column
-- {{ACTION_COLUMN}} read by their type (windowpane writes the expressions
-- for the types the files have), up to the CTE `typed` that scan_tail.sql
-- reads on from. As the local reader: a timestamp of any unit (with a time
-- zone or without, taken as UTC), an integer in the unit, or text in the
-- forms of a JSON time or number; an action of text, an integer or a
-- boolean, named by its text. A row's text is its two values as JSON.
WITH cells AS (
  SELECT
    input_file_name() AS file,
    {{TIME_COLUMN}} AS tv,
    {{ACTION_COLUMN}} AS av
  FROM windowpane_parquet
),
typed AS (
  SELECT
    file,
    to_json(named_struct({{TIME_KEY}}, string(tv), {{ACTION_KEY}}, string(av))) AS line,
    {{TIME_SECS}} AS time_secs,
    {{TIME_INT}} AS time_int,
    {{TIME_FRAC}} AS time_frac,
    {{TIME_TEXT}} AS time_text,
    {{ACTION}} AS action,
    CASE
      WHEN tv IS NULL THEN '`{{TIME_NAME}}` is null'
      WHEN {{TIME_TYPE_REASON}} IS NOT NULL THEN {{TIME_TYPE_REASON}}
      WHEN string(tv) = '' THEN '`{{TIME_NAME}}` is empty'
    END AS pre_reason,
    CASE WHEN av IS NULL THEN '`{{ACTION_NAME}}` is null' END AS action_reason,
    '`{{ACTION_NAME}}` is empty' AS empty_action
  FROM cells
),
