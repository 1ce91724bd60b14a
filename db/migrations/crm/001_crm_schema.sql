-- CRM schema: customers, prosthesis models, prostheses and orders.
-- Applied by db/migrate.ts as role `crm` (owner of database crm) inside one transaction.
-- Every table has a primary key (Debezium keys its events by it) and an updated_at kept by a trigger.

CREATE SCHEMA IF NOT EXISTS crm;

-- Keeps updated_at honest whatever client writes the row (CRM operators, the demo generator, tests).
CREATE FUNCTION crm.set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;

CREATE TABLE crm.customers (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- The LDAP uid (Keycloak preferred_username): the person's key in every other store.
  username    text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9._-]{1,64}$'),
  -- Whose directory holds the person's personal data (LDAP RU or EU).
  region      text NOT NULL CHECK (region IN ('ru', 'eu')),
  full_name   text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
  email       text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
  phone       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE crm.prosthesis_models (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name                 text NOT NULL,
  manufacturer         text NOT NULL,
  kind                 text NOT NULL CHECK (kind IN ('hand', 'arm', 'leg', 'foot')),
  actuator_count       smallint NOT NULL CHECK (actuator_count BETWEEN 1 AND 64),
  battery_capacity_mah integer NOT NULL CHECK (battery_capacity_mah > 0),
  weight_g             integer NOT NULL CHECK (weight_g > 0),
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  UNIQUE (manufacturer, name)
);

CREATE TABLE crm.prostheses (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- What the device sends with every telemetry event; joins telemetry to its owner.
  chip_id        text NOT NULL UNIQUE CHECK (chip_id ~ '^[A-Za-z0-9_-]{4,64}$'),
  customer_id    uuid NOT NULL REFERENCES crm.customers (id) ON DELETE RESTRICT,
  model_id       uuid NOT NULL REFERENCES crm.prosthesis_models (id) ON DELETE RESTRICT,
  serial_number  text NOT NULL UNIQUE,
  fitted_at      timestamptz NOT NULL,
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'maintenance', 'retired')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prostheses_customer_id_idx ON crm.prostheses (customer_id);
CREATE INDEX prostheses_model_id_idx ON crm.prostheses (model_id);

CREATE TABLE crm.orders (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id  uuid NOT NULL REFERENCES crm.customers (id) ON DELETE RESTRICT,
  model_id     uuid NOT NULL REFERENCES crm.prosthesis_models (id) ON DELETE RESTRICT,
  status       text NOT NULL DEFAULT 'new'
               CHECK (status IN ('new', 'paid', 'manufacturing', 'shipped', 'fitted', 'cancelled')),
  amount       numeric(12, 2) NOT NULL CHECK (amount >= 0),
  currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  ordered_at   timestamptz NOT NULL DEFAULT now(),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id_idx ON crm.orders (customer_id);
CREATE INDEX orders_model_id_idx ON crm.orders (model_id);

CREATE TRIGGER customers_set_updated_at BEFORE UPDATE ON crm.customers
  FOR EACH ROW EXECUTE FUNCTION crm.set_updated_at();
CREATE TRIGGER prosthesis_models_set_updated_at BEFORE UPDATE ON crm.prosthesis_models
  FOR EACH ROW EXECUTE FUNCTION crm.set_updated_at();
CREATE TRIGGER prostheses_set_updated_at BEFORE UPDATE ON crm.prostheses
  FOR EACH ROW EXECUTE FUNCTION crm.set_updated_at();
CREATE TRIGGER orders_set_updated_at BEFORE UPDATE ON crm.orders
  FOR EACH ROW EXECUTE FUNCTION crm.set_updated_at();

-- Debezium reads exactly these tables (publication.autocreate.mode=disabled). Role crm owns them and
-- has REPLICATION (set by stack/services/postgres.ts), which is all pgoutput needs; the default
-- replica identity (the primary key) is enough for update and delete events.
CREATE PUBLICATION crm_publication
  FOR TABLE crm.customers, crm.prosthesis_models, crm.prostheses, crm.orders;
