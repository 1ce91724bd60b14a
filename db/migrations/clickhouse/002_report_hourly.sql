-- The report mart: one row per user, prosthesis and UTC hour, written by the jobs ETL.
-- Re-running the ETL for an hour inserts the row again with a higher _version (the run's start
-- time in ms); ReplacingMergeTree keeps the newest, so readers use FINAL or argMax(_, _version).
--
-- Averages are stored as sum + count so that days, weeks and summaries re-aggregate exactly
-- (sum of sums / sum of counts); only response_time_p95_ms is a per-hour figure that cannot be
-- combined exactly (use max or a weighted value for longer ranges). Error counts per code are two
-- parallel arrays (same length, same order); merge hours with
-- `ARRAY JOIN error_codes AS code, error_counts AS n … GROUP BY code` (18.16's sumMap takes no String keys).

CREATE TABLE IF NOT EXISTS report_hourly (
  user_id String,
  prosthesis_id UUID,
  chip_id String,
  model_name String,
  region String,
  hour DateTime('UTC'),
  event_count UInt32,
  movements UInt64,
  successful_movements UInt64,
  response_time_sum_ms UInt64,
  response_time_count UInt32,
  response_time_max_ms UInt32,
  response_time_p95_ms UInt32,
  battery_min_pct UInt8,
  battery_max_pct UInt8,
  battery_sum_pct UInt64,
  actuator_temp_max_c Float32,
  actuator_temp_sum_c Float64,
  errors_total UInt32,
  error_codes Array(String),
  error_counts Array(UInt32),
  active_minutes UInt8,
  charging_minutes UInt8,
  _version UInt64
) ENGINE = ReplacingMergeTree(_version)
PARTITION BY toYYYYMM(hour)
ORDER BY (user_id, hour, prosthesis_id);
