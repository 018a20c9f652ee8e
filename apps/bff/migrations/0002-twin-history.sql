-- Every twin change event read from the hub's endpoint, stored once whichever replica read
-- it first: (partition, sequence number) is the event's place in the endpoint.
CREATE TABLE twin_changes (
  source_partition integer NOT NULL,
  source_sequence bigint NOT NULL,
  device_id text NOT NULL,
  -- '' for the device itself, as in audit_entries.
  module_id text NOT NULL DEFAULT '',
  -- The twin's version after the change, as the event says.
  version integer,
  enqueued_at timestamptz NOT NULL,
  op_type text NOT NULL,
  sections text[] NOT NULL,
  -- What the event says changed; over the cap, only its size and SHA-256.
  patch jsonb,
  patch_digest jsonb,
  stored_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_partition, source_sequence)
);
CREATE INDEX twin_changes_twin ON twin_changes (device_id, module_id, version);
CREATE INDEX twin_changes_at ON twin_changes (enqueued_at DESC);

-- Whole twins read from the hub: when a twin is first seen, and after a gap (versions the
-- events do not account for). Versions are rebuilt from a snapshot and the patches after it.
CREATE TABLE twin_snapshots (
  device_id text NOT NULL,
  module_id text NOT NULL DEFAULT '',
  version integer NOT NULL,
  twin jsonb NOT NULL,
  reason text NOT NULL CHECK (reason IN ('first-seen', 'gap')),
  taken_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, module_id, version)
);
