-- Device and module list views saved under a name: a person's own, or shared with the team.
CREATE TABLE saved_views (
  id text PRIMARY KEY,
  name text NOT NULL,
  owner_id text NOT NULL,
  owner_name text NOT NULL,
  shared boolean NOT NULL DEFAULT false,
  view jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- One name per person among their own views, and one name among the team's.
CREATE UNIQUE INDEX saved_views_own_name ON saved_views (owner_id, lower(name)) WHERE NOT shared;
CREATE UNIQUE INDEX saved_views_shared_name ON saved_views (lower(name)) WHERE shared;
