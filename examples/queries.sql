-- Example queries for `windowpane sql data/events -f examples/queries.sql`.
-- Each statement ends with `;`; the results print one after the other
-- (with --format json: one JSON array, an object per statement).

-- the total per action, from the hourly counts (the exercise's 2b)
select action, sum(count) as total_count
from static_counts_hourly
group by action
order by action;

-- the busiest hour by average actions per minute (the exercise's 2d)
select window_start, average
from hourly_average
order by average desc
limit 1;

-- the alert minutes: |Open - Close| > 20 in a minute
select window_start, open, close, difference
from alerts
order by window_start;

-- the variance of the minute counts (Spark's variance(count))
select variance(count) as variance from minute_counts;
