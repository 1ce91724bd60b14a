-- Report owners are pseudonymous (issue 11, docs/data-model.md "Report owner ref"): the mart, S3
-- keys, CDN URLs and logs name an owner by a keyed hash of the username, and the username no longer
-- leaves the CRM (Debezium excludes it). ClickHouse never holds the key, so it cannot map one to the
-- other.
--
-- 1. Mart rows keyed by a username go: they would keep usernames in the analytics store for good.
--    Telemetry migration 004 resets the ETL's watermark, so its next run writes every hour again
--    under the owner's ref (hours whose raw telemetry retention already dropped are not rebuilt).
--    A mutation, so safe to repeat, which is why it comes first in this file.
-- 2. crm_customers loses username and gains owner_ref ('' until the CDC consumer brings the row's
--    ref; the ETL treats such a customer as not known yet). Existing rows keep '' until Debezium's
--    re-snapshot (stack/services/kafka-connect.ts re-snapshots when column.exclude.list grows)
--    replicates every customer again. One statement: 18.16 has neither DROP COLUMN IF EXISTS nor
--    ADD COLUMN IF NOT EXISTS, so the file either applied (and is recorded) or did not.

ALTER TABLE report_hourly DELETE WHERE NOT match(user_id, '^[a-z2-7]{32}$');

ALTER TABLE crm_customers DROP COLUMN username, ADD COLUMN owner_ref String DEFAULT '' AFTER id;
