-- How much of each of the hub's throttles every replica's budget has in use, written by each
-- replica every few seconds, so the overview shows the team's use of the hub, not one
-- replica's. A replica that stopped deletes its rows; one that died is no longer fresh.
CREATE TABLE quota_use (
  replica_id text NOT NULL,
  kind text NOT NULL,
  used double precision NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (replica_id, kind)
);
