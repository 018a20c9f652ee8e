-- The audit trail: one row per write, made before the hub is called (result 'unknown')
-- and completed with its outcome after. Every replica writes the same table.
CREATE TABLE audit_entries (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id uuid NOT NULL UNIQUE,
  at timestamptz NOT NULL,
  actor_id text NOT NULL,
  actor_name text NOT NULL,
  action text NOT NULL,
  device_id text NOT NULL,
  -- '' for the device itself, so one index serves devices and modules.
  module_id text NOT NULL DEFAULT '',
  change jsonb NOT NULL,
  change_digest jsonb,
  before jsonb,
  after jsonb,
  revert jsonb,
  revert_omitted boolean NOT NULL DEFAULT false,
  revert_of uuid,
  response jsonb,
  result text NOT NULL DEFAULT 'unknown'
    CHECK (result IN ('succeeded', 'refused', 'failed', 'unknown')),
  error jsonb,
  finished_at timestamptz
);
CREATE INDEX audit_entries_target ON audit_entries (device_id, module_id, seq DESC);
CREATE INDEX audit_entries_at ON audit_entries (at DESC);
CREATE INDEX audit_entries_actor ON audit_entries (actor_id, seq DESC);
CREATE INDEX audit_entries_action ON audit_entries (action, seq DESC);
