-- The assignment history (002) joins CDC: the ETL attributes each hour of telemetry to the owner at
-- that time (jobs/etl/owner-spans.ts), so the history must reach ClickHouse like the other CRM
-- tables. The rows hold ids and a time only, no personal data. Numbered 004 because 003 is the
-- owner_ref change made alongside; the runner applies whatever is pending, in number order.
--
-- The CDC role gets SELECT on it from stack/services/postgres.ts (it grants SELECT on exactly the
-- published tables); Debezium's table.include.list names it (stack/config/debezium/crm-connector.json).
ALTER PUBLICATION crm_publication ADD TABLE crm.prosthesis_assignments;
