-- When a saved overview setting last asked for a look at once: at most one such look per
-- the overview's floor, so saving again and again does not spend the hub's queries.
ALTER TABLE overview_schedule ADD COLUMN forced_at timestamptz;
