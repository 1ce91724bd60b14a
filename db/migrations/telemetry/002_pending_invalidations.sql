-- Users whose cached report objects (S3 + CDN edge) core still has to drop.
-- Applied by db/migrate.ts as role `telemetry` (owner of database telemetry) inside one transaction.
--
-- The jobs CDC consumer records a batch's affected users here BEFORE it commits the batch's Kafka
-- offsets, and a background drain sends them to core's invalidate endpoint and deletes them. A
-- crash between the commit and a successful call to core therefore loses nothing: the next jobs
-- process finds the rows and sends them. It lives in the telemetry database because that is the
-- PostgreSQL every jobs process already writes (watermarks, locks); the CRM is read-only to jobs.

CREATE TABLE public.pending_invalidations (
  -- Core's username (the LDAP uid). The jobs record only names in core's key alphabet (at most 128
  -- characters, common/auth/principal.ts); the check bounds what any other writer can put here.
  user_id         text PRIMARY KEY CHECK (length(user_id) BETWEEN 1 AND 128),
  -- Set to now() by every new request for the user, so it changes when a change arrives while a
  -- send is in flight: a drain deletes a row only if enqueued_at is still the value it claimed, and
  -- the newer request stays for the next send instead of being lost.
  enqueued_at     timestamptz NOT NULL DEFAULT now(),
  -- Failed sends since the last success (core down, token refused): drives the backoff.
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  -- Why the last send failed, for operators (NULL after a success or before the first attempt).
  last_error      text CHECK (length(last_error) <= 1000),
  -- When a drain may take the row: now() for a new request, later after a failure (capped
  -- exponential backoff), and a lease while one process is sending it, so two jobs processes do not
  -- both send it (a double send would be harmless, only wasteful). A process that dies mid-send
  -- leaves the lease to run out, and the row is sent again.
  next_attempt_at timestamptz NOT NULL DEFAULT now()
);

-- The drain asks for due rows, oldest due first; the table is small unless core is down for long,
-- and then it holds one row per affected user, which this keeps cheap to scan.
CREATE INDEX pending_invalidations_next_attempt_at ON public.pending_invalidations (next_attempt_at);
