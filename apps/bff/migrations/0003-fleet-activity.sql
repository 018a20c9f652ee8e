-- The fleet's latest twin changes, newest first, a page at a time: the order is the key, so a
-- page over millions of changes reads only the rows it shows.
DROP INDEX twin_changes_at;
CREATE INDEX twin_changes_at ON twin_changes
  (enqueued_at DESC, source_partition DESC, source_sequence DESC);
CREATE INDEX twin_changes_device_at ON twin_changes
  (device_id, enqueued_at DESC, source_partition DESC, source_sequence DESC);

-- Who made a version from Twinscope: an audit record's outcome names the version it produced.
CREATE INDEX audit_entries_version ON audit_entries
  (device_id, module_id, ((after->>'version')::integer))
  WHERE action LIKE 'twin.%' AND result = 'succeeded';

-- Snapshots the history makes itself, from what it stores (no hub read): a checkpoint every
-- so many versions, so rebuilding any version reads a few hundred changes at most, and
-- retention rolling a twin's oldest snapshot forward to the newest version it deletes.
ALTER TABLE twin_snapshots DROP CONSTRAINT twin_snapshots_reason_check;
ALTER TABLE twin_snapshots ADD CONSTRAINT twin_snapshots_reason_check
  CHECK (reason IN ('first-seen', 'gap', 'checkpoint', 'retention'));

-- How far each partition of the endpoint has been stored: a BFF that starts again reads back
-- from here what came while no replica was reading (within the endpoint's retention). It never
-- moves past changes a replica failed to store and has still to read back.
CREATE TABLE history_positions (
  source_partition integer PRIMARY KEY,
  source_sequence bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
