-- When a change reached ClickHouse, in ms (issue 11: the operator page shows "in reports after N ms").
-- _synced_at is DateTime (seconds on 18.16, no DateTime64), too coarse for a lag of a few hundred ms,
-- so the CDC consumer writes two millisecond columns: _source_ts_ms (Debezium's source.ts_ms, the
-- commit time in the CRM) and _ingested_ms (the consumer's clock when it applied the batch).
-- Rows written before this migration keep 0 in both. 18.16 has no ADD COLUMN IF NOT EXISTS: both
-- columns are one statement and each table has its own file, so a file either applied or did not.

ALTER TABLE crm_customers ADD COLUMN _source_ts_ms UInt64 DEFAULT 0, ADD COLUMN _ingested_ms UInt64 DEFAULT 0;
