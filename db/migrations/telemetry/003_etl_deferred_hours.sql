-- Hours of telemetry the ETL could not load yet because the CRM replica did not know the chip.
-- Applied by db/migrate.ts as role `telemetry` (owner of database telemetry) inside one transaction.
--
-- A device's telemetry often arrives before its prosthesis reaches the ClickHouse CRM replica (CDC
-- lag, or a prosthesis registered after the device started sending). The ETL's watermark moves on
-- past those rows, so the (chip, hour) pairs it could not load are recorded here BEFORE the
-- watermark moves: a run that dies midway leaves the watermark where it was and redoes the window,
-- one that finishes has them here. Every incremental run looks the recorded chips up again and
-- recomputes the hours of those the replica now knows from raw_telemetry, exactly as it recomputes
-- touched hours; a row is deleted only after its hour is in the mart and its owner's cached
-- reports were invalidated. Retention deletes rows older than the raw-telemetry horizon, whose raw
-- rows are gone (or about to go) and can no longer be recomputed. It lives beside etl_watermarks
-- because it is part of the same source's progress.

CREATE TABLE public.etl_deferred_hours (
  -- The ETL source, as in etl_watermarks: a deferral belongs to one pipeline's progress.
  source        text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
  -- Same alphabet as raw_telemetry.chip_id, where every value here comes from.
  chip_id       text NOT NULL CHECK (chip_id ~ '^[A-Za-z0-9_-]{4,64}$'),
  -- Start of the UTC hour (the mart's grain); recomputed in full from raw_telemetry when loaded.
  hour          timestamptz NOT NULL CHECK (hour = date_trunc('hour', hour, 'UTC')),
  -- When a run first could not load this hour: how long the owner's report has been missing it.
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  -- When a run last looked the chip up and the replica still did not know it.
  last_tried_at timestamptz NOT NULL DEFAULT now(),
  -- Runs that met this hour with the chip unknown (a chip that stays unknown for long is a CRM or
  -- CDC problem for an operator, not a race).
  attempts      integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
  PRIMARY KEY (source, chip_id, hour)
);

-- No index on hour for retention's "older than the horizon" delete: it runs once a day over a
-- table that holds only hours waiting for the CRM, normally a few; the primary key serves the
-- run's per-chip reads.
