-- The overview. One replica at a time looks at the hub on a schedule (the row in
-- overview_schedule says when the next look is due; a replica takes it by moving due_at on),
-- and every tab on every replica reads what the last looks found, with when.
CREATE TABLE overview_snapshots (
  taken_at timestamptz PRIMARY KEY,
  snapshot jsonb NOT NULL
);

CREATE TABLE overview_schedule (
  id integer PRIMARY KEY CHECK (id = 1),
  due_at timestamptz NOT NULL,
  taken_by text,
  interval_seconds integer NOT NULL DEFAULT 60
);
INSERT INTO overview_schedule (id, due_at) VALUES (1, now());

-- Counts kept over time for the trends: the last look in each hour and each day.
CREATE TABLE overview_points (
  bucket text NOT NULL CHECK (bucket IN ('hour', 'day')),
  at timestamptz NOT NULL,
  devices integer NOT NULL,
  connected integer NOT NULL,
  drifting integer NOT NULL,
  PRIMARY KEY (bucket, at)
);

-- What the team chose to see (the tag it groups by, the desired keys it checks).
CREATE TABLE overview_settings (
  id integer PRIMARY KEY CHECK (id = 1),
  settings jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by_id text,
  updated_by_name text
);

-- Device-to-cloud messages the event endpoint carried, per minute. Every replica reads the
-- whole endpoint, so each writes what it counted and the larger count of a minute stands.
CREATE TABLE telemetry_minutes (
  at timestamptz PRIMARY KEY,
  messages integer NOT NULL
);
