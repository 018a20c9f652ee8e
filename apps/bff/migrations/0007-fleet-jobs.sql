-- The hub's bulk export and import jobs started from Twinscope: who started which, in which
-- blob container, and what an import was to do line by line (its outcome once it ended).
CREATE TABLE fleet_jobs (
  job_id text PRIMARY KEY,
  kind text NOT NULL,
  container text NOT NULL,
  actor_id text NOT NULL,
  actor_name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  filter text,
  include_keys boolean,
  counts jsonb,
  items jsonb,
  truncated boolean,
  status text NOT NULL,
  progress integer NOT NULL DEFAULT 0,
  ended_at timestamptz,
  failure_reason text
);
CREATE INDEX fleet_jobs_created ON fleet_jobs (created_at DESC);
