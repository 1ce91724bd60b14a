-- CRM replicas fed by the jobs CDC consumer (Debezium topics crm.crm.<table>).
-- Runs on ClickHouse 18.16 and current releases: no LowCardinality, DateTime64, TTL or query params.
-- The runner executes one statement per HTTP request: a statement ends with a line ending in ';'.
-- ClickHouse DDL is not transactional, so every statement must be safe to repeat (IF NOT EXISTS).
--
-- ReplacingMergeTree(_version) keeps, per primary key, the row with the highest _version (the
-- consumer writes the change's source LSN there); a delete arrives as a row with _deleted = 1.
-- Readers use FINAL (or argMax by _version) and filter _deleted = 0. Ids are UUID (16 bytes,
-- validated on insert); compare them with toUUID('…') literals, which the SQL binder emits.

CREATE TABLE IF NOT EXISTS crm_customers (
  id UUID,
  username String,
  region String,
  full_name String,
  email String,
  phone Nullable(String),
  created_at DateTime('UTC'),
  updated_at DateTime('UTC'),
  _version UInt64,
  _deleted UInt8 DEFAULT 0,
  _synced_at DateTime('UTC') DEFAULT now()
) ENGINE = ReplacingMergeTree(_version)
ORDER BY id;

CREATE TABLE IF NOT EXISTS crm_prosthesis_models (
  id UUID,
  name String,
  manufacturer String,
  kind String,
  actuator_count UInt16,
  battery_capacity_mah UInt32,
  weight_g UInt32,
  created_at DateTime('UTC'),
  updated_at DateTime('UTC'),
  _version UInt64,
  _deleted UInt8 DEFAULT 0,
  _synced_at DateTime('UTC') DEFAULT now()
) ENGINE = ReplacingMergeTree(_version)
ORDER BY id;

CREATE TABLE IF NOT EXISTS crm_prostheses (
  id UUID,
  chip_id String,
  customer_id UUID,
  model_id UUID,
  serial_number String,
  fitted_at DateTime('UTC'),
  status String,
  created_at DateTime('UTC'),
  updated_at DateTime('UTC'),
  _version UInt64,
  _deleted UInt8 DEFAULT 0,
  _synced_at DateTime('UTC') DEFAULT now()
) ENGINE = ReplacingMergeTree(_version)
ORDER BY id;

CREATE TABLE IF NOT EXISTS crm_orders (
  id UUID,
  customer_id UUID,
  model_id UUID,
  status String,
  amount Decimal(12, 2),
  currency String,
  ordered_at DateTime('UTC'),
  created_at DateTime('UTC'),
  updated_at DateTime('UTC'),
  _version UInt64,
  _deleted UInt8 DEFAULT 0,
  _synced_at DateTime('UTC') DEFAULT now()
) ENGINE = ReplacingMergeTree(_version)
ORDER BY id;
