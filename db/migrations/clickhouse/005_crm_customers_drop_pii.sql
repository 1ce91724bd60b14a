-- Personal data stays in its region (issue 11): names, e-mails and phones no longer leave the CRM.
-- Debezium drops them from the events (column.exclude.list in stack/config/debezium/crm-connector.json),
-- the CDC consumer no longer expects them, and the replica loses the columns together with every
-- value they held. `username` stays: the ETL keys the mart and the CDC consumer keys cache
-- invalidation by it, until the pseudonymous report owner replaces it (docs/data-model.md).
-- ClickHouse 18.16 has no DROP COLUMN IF EXISTS: the three drops are one statement, so the file
-- either applied (and is recorded) or did not.

ALTER TABLE crm_customers DROP COLUMN full_name, DROP COLUMN email, DROP COLUMN phone;
