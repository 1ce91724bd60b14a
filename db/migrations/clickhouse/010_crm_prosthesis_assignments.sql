-- Replica of crm.prosthesis_assignments (CRM migrations 002 and 004), fed by the CDC consumer from
-- crm.crm.prosthesis_assignments like the tables of 001 (ReplacingMergeTree(_version) with the
-- change's LSN, a delete as _deleted = 1, the two ms columns of 006-009). The ETL reads it to give
-- each hour's telemetry to the prosthesis's owner at that time (jobs/etl/owner-spans.ts).
-- The CRM key is a bigint identity, hence id UInt64. valid_from keeps DateTime's whole seconds for
-- people and queries; valid_from_ms (ms since the epoch) is what the ETL splits an hour at.

CREATE TABLE IF NOT EXISTS crm_prosthesis_assignments (
  id UInt64,
  prosthesis_id UUID,
  customer_id UUID,
  valid_from DateTime('UTC'),
  valid_from_ms UInt64,
  created_at DateTime('UTC'),
  _version UInt64,
  _deleted UInt8 DEFAULT 0,
  _synced_at DateTime('UTC') DEFAULT now(),
  _source_ts_ms UInt64 DEFAULT 0,
  _ingested_ms UInt64 DEFAULT 0
) ENGINE = ReplacingMergeTree(_version)
ORDER BY id;
