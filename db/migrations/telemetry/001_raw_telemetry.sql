-- Raw device telemetry, partitioned by month of event_time.
-- Applied by db/migrate.ts as role `telemetry` (owner of database telemetry) inside one transaction.

-- One row per device event: what the prosthesis measured over the interval since its previous event.
CREATE TABLE public.raw_telemetry (
  -- Chosen by the device; a re-sent event carries the same id, chip and time.
  event_id             uuid NOT NULL,
  chip_id              text NOT NULL CHECK (chip_id ~ '^[A-Za-z0-9_-]{4,64}$'),
  -- Device clock, UTC, millisecond precision (the reports and ClickHouse keep integer ms).
  event_time           timestamptz(3) NOT NULL,
  -- When this database stored the row: the ETL reads new rows by it, so late events still count.
  received_at          timestamptz NOT NULL DEFAULT now(),
  movements            integer NOT NULL CHECK (movements >= 0),
  successful_movements integer NOT NULL CHECK (successful_movements >= 0 AND successful_movements <= movements),
  -- Mean response over the interval's movements; NULL when there was no movement to time.
  response_time_ms     integer CHECK (response_time_ms >= 0 AND response_time_ms <= 600000),
  battery_pct          smallint NOT NULL CHECK (battery_pct BETWEEN 0 AND 100),
  actuator_temp_c      numeric(5, 2) NOT NULL CHECK (actuator_temp_c BETWEEN -50 AND 150),
  error_code           text CHECK (error_code ~ '^[A-Z0-9_]{1,32}$'),
  charging             boolean NOT NULL DEFAULT false,
  -- Event identity is (chip_id, event_id). PostgreSQL requires every unique constraint of a
  -- partitioned table to contain the partition key, so event_time is part of the key: a re-sent
  -- event (same id, chip and time) lands in the same partition and hits this key, so it is stored
  -- once (INSERT … ON CONFLICT DO NOTHING). Putting event_time second makes the same index serve
  -- "one chip over a time range" lookups, so no separate (chip_id, event_time) index is needed.
  PRIMARY KEY (chip_id, event_time, event_id)
) PARTITION BY RANGE (event_time);

-- Rows outside every monthly partition land here instead of failing the insert; the partition
-- function below moves them into their month when that partition is created.
CREATE TABLE public.raw_telemetry_default PARTITION OF public.raw_telemetry DEFAULT;

-- The ETL scans by arrival time; arrival order follows insertion order, which is what BRIN is for
-- (a few pages instead of a B-tree the size of the table, and almost free to maintain on insert).
CREATE INDEX raw_telemetry_received_at_brin ON public.raw_telemetry USING brin (received_at);

-- Creates the monthly partitions (UTC months) covering [from_time, to_time]; existing months are
-- skipped, so it is safe to call on every ingestion batch, generator run or `stack up`. Rows of a
-- new month already sitting in the default partition are moved into it in the same transaction.
-- Returns how many partitions it created.
CREATE FUNCTION public.ensure_raw_telemetry_partitions(from_time timestamptz, to_time timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  month_start timestamptz;
  month_end   timestamptz;
  part_name   text;
  created     integer := 0;
BEGIN
  IF from_time IS NULL OR to_time IS NULL OR to_time < from_time THEN
    RAISE EXCEPTION 'ensure_raw_telemetry_partitions: need from_time <= to_time, got % .. %', from_time, to_time;
  END IF;
  IF to_time - from_time > interval '10 years' THEN
    RAISE EXCEPTION 'ensure_raw_telemetry_partitions: range % .. % is longer than 10 years', from_time, to_time;
  END IF;
  -- Two callers creating the same month would otherwise race on CREATE TABLE.
  PERFORM pg_advisory_xact_lock(hashtext('public.raw_telemetry partitions'));
  month_start := date_trunc('month', from_time, 'UTC');
  WHILE month_start <= to_time LOOP
    month_end := ((month_start AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    part_name := 'raw_telemetry_' || to_char(month_start AT TIME ZONE 'UTC', 'YYYY_MM');
    IF to_regclass('public.' || part_name) IS NULL THEN
      EXECUTE format('CREATE TABLE public.%I (LIKE public.raw_telemetry INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part_name);
      EXECUTE format(
        'WITH moved AS (DELETE FROM public.raw_telemetry_default WHERE event_time >= %L AND event_time < %L RETURNING *)
         INSERT INTO public.%I SELECT * FROM moved',
        month_start, month_end, part_name);
      EXECUTE format('ALTER TABLE public.raw_telemetry ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)',
        part_name, month_start, month_end);
      created := created + 1;
    END IF;
    month_start := month_end;
  END LOOP;
  RETURN created;
END;
$$;

-- Progress of the jobs ETL per source (e.g. 'raw_telemetry->report_hourly'): everything received
-- up to `watermark` has been loaded.
CREATE TABLE public.etl_watermarks (
  source     text PRIMARY KEY CHECK (length(source) BETWEEN 1 AND 200),
  watermark  timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
