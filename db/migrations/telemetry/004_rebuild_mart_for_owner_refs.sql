-- Report owners became pseudonymous owner refs (issue 11; ClickHouse migration 011 dropped the mart
-- rows keyed by username). The ETL starts over from the oldest raw telemetry still kept, so its next
-- run writes every hour again, under the owner's ref; loads are idempotent, so nothing doubles.
DELETE FROM public.etl_watermarks WHERE source = 'raw_telemetry->report_hourly';

-- Queued invalidations name usernames, which core now refuses (it takes owner refs): the rebuild
-- above invalidates every owner it writes anyway.
DELETE FROM public.pending_invalidations WHERE user_id !~ '^[a-z2-7]{32}$';
