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

-- Every replica hears every record (its own included) as it is written and as it ends.
CREATE FUNCTION audit_entries_notify() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('twinscope_audit', NEW.id::text);
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_entries_notify AFTER INSERT OR UPDATE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_entries_notify();

-- JSON-lines trails imported once (the file trail of earlier versions).
CREATE TABLE audit_imports (
  file text PRIMARY KEY,
  entries integer NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now()
);
