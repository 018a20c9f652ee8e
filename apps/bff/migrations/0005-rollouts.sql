-- Guarded rollouts: one row per rollout (its plan, its status and which replica drives it),
-- one per target (its wave, where it is, and the patch that undoes what was written to it).
CREATE TABLE rollouts (
  id text PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  created_by_id text NOT NULL,
  created_by_name text NOT NULL,
  spec jsonb NOT NULL,
  status text NOT NULL,
  message text,
  wave integer NOT NULL DEFAULT 0,
  waves jsonb NOT NULL DEFAULT '[]',
  -- When the current wave's writes were all sent: its success condition is timed from here.
  wave_written_at timestamptz,
  writes_per_second double precision,
  approved_by jsonb,
  -- Who asked for the rollback: its writes are theirs in the audit trail.
  rollback_by jsonb,
  -- The replica driving it, until when; another may take it over once the lease runs out.
  lease_owner text,
  lease_until timestamptz
);
CREATE INDEX rollouts_created ON rollouts (created_at DESC);

CREATE TABLE rollout_targets (
  rollout_id text NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
  device_id text NOT NULL,
  module_id text NOT NULL DEFAULT '',
  wave integer NOT NULL,
  state text NOT NULL DEFAULT 'pending',
  inverse jsonb,
  error text,
  attempts integer NOT NULL DEFAULT 0,
  -- The IoT Hub job that calls this target's direct method (a wave's job), once scheduled.
  job_id text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rollout_id, device_id, module_id)
);
CREATE INDEX rollout_targets_wave ON rollout_targets (rollout_id, wave, state);
-- Which rollouts hold a twin (two active rollouts must never share one).
CREATE INDEX rollout_targets_twin ON rollout_targets (device_id, module_id);

ALTER TABLE audit_entries ADD COLUMN rollout_id text;
CREATE INDEX audit_entries_rollout ON audit_entries (rollout_id, seq DESC)
  WHERE rollout_id IS NOT NULL;
