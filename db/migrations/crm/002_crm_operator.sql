-- The CRM operator API (core/crm, docs/core.md "CRM operator API"): order workflow, audit log and
-- prosthesis assignment history. Neither new table is in crm_publication: the audit log holds
-- before/after images with names, e-mails and phones, which must never leave the CRM; adding the
-- assignment history to CDC (for the ETL) is a later, separate change.

-- Order workflow new → confirmed → manufacturing → fitted → closed, or cancelled. 'paid' and
-- 'shipped' stay accepted for rows written before (and by the demo generator until it follows);
-- the API never sets them.
ALTER TABLE crm.orders DROP CONSTRAINT orders_status_check;
ALTER TABLE crm.orders ADD CONSTRAINT orders_status_check
  CHECK (status IN ('new', 'confirmed', 'manufacturing', 'fitted', 'closed', 'cancelled', 'paid', 'shipped'));

-- Every change made through the operator API, written in the transaction of the change itself.
CREATE TABLE crm.audit_log (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT now(),
  -- preferred_username of the operator and the region their token carried.
  actor        text NOT NULL CHECK (length(actor) BETWEEN 1 AND 128),
  actor_region text NOT NULL CHECK (actor_region IN ('ru', 'eu')),
  action       text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
  entity       text NOT NULL CHECK (entity IN ('customer', 'prosthesis', 'order')),
  entity_id    uuid NOT NULL,
  -- The customer the change belongs to (for "what happened to this customer"); no FK so the log
  -- outlives anything it describes.
  customer_id  uuid,
  before       jsonb,
  after        jsonb,
  request_id   text
);
CREATE INDEX audit_log_entity_idx ON crm.audit_log (entity, entity_id, at);
CREATE INDEX audit_log_customer_idx ON crm.audit_log (customer_id, at);

-- Who owned a prosthesis from when: reports attribute each hour to the owner at that time. Written
-- by a trigger, so every writer (API, demo generator, psql) keeps it whole.
CREATE TABLE crm.prosthesis_assignments (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  prosthesis_id  uuid NOT NULL REFERENCES crm.prostheses (id) ON DELETE CASCADE,
  customer_id    uuid NOT NULL REFERENCES crm.customers (id) ON DELETE RESTRICT,
  valid_from     timestamptz NOT NULL DEFAULT now(),
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prosthesis_assignments_prosthesis_idx ON crm.prosthesis_assignments (prosthesis_id, valid_from);
CREATE INDEX prosthesis_assignments_customer_idx ON crm.prosthesis_assignments (customer_id);

CREATE FUNCTION crm.record_prosthesis_assignment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.customer_id IS DISTINCT FROM OLD.customer_id THEN
    INSERT INTO crm.prosthesis_assignments (prosthesis_id, customer_id, valid_from)
    VALUES (NEW.id, NEW.customer_id, now());
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER prostheses_record_assignment AFTER INSERT OR UPDATE OF customer_id ON crm.prostheses
  FOR EACH ROW EXECUTE FUNCTION crm.record_prosthesis_assignment();

-- Prostheses that exist already: owned by their customer since they were fitted (or registered,
-- whichever came first), so telemetry before this migration keeps its owner.
INSERT INTO crm.prosthesis_assignments (prosthesis_id, customer_id, valid_from)
SELECT id, customer_id, least(fitted_at, created_at) FROM crm.prostheses;

-- Operators search customers by any fragment of name or e-mail (ILIKE '%…%'): trigram indexes
-- serve that, a btree cannot. pg_trgm is a trusted extension, so the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX customers_full_name_trgm_idx ON crm.customers USING gin (full_name public.gin_trgm_ops);
CREATE INDEX customers_email_trgm_idx ON crm.customers USING gin (email public.gin_trgm_ops);
