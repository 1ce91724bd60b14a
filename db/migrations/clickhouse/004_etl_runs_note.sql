-- A run's note (what an operator should know about a successful run: deferred hours, what retention
-- dropped) gets its own column; `error` now holds only why a run failed. Rows written before this
-- migration keep their notes in `error`.
-- ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: this file is one statement, so it either
-- applied (and is recorded) or did not.

ALTER TABLE etl_runs ADD COLUMN note String DEFAULT '' AFTER error;
