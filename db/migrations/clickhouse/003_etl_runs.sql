-- One row per ETL run (append-only log): what window it loaded, how much, and how it ended.
-- Lets an operator answer "when was the mart last refreshed and did it fail?" without logs.

CREATE TABLE IF NOT EXISTS etl_runs (
  run_id String,
  job String,
  started_at DateTime('UTC'),
  finished_at DateTime('UTC'),
  status String,
  window_from DateTime('UTC'),
  window_to DateTime('UTC'),
  rows_read UInt64,
  rows_written UInt64,
  affected_users UInt32,
  error String
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(started_at)
ORDER BY (job, started_at, run_id);
