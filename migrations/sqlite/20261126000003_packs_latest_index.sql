-- The search joins each pack to its latest version; this index lets the join drive from versions
-- filtered by layer (or any other indexed filter) and look packs up instead of scanning them.
CREATE INDEX packs_by_latest_uid ON packs (latest_uid);
