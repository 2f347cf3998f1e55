-- Garbage collection bookkeeping. pack_blobs.kind: 'upload' for blobs put directly (kept until
-- deleted), 'version' for blobs a pack version references (collectable once no version does).
-- blobs.touched_at: the last time a write stored or referenced the blob; gc spares recent ones.
ALTER TABLE pack_blobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'upload';
ALTER TABLE blobs ADD COLUMN touched_at BIGINT NOT NULL DEFAULT 0;
UPDATE blobs SET touched_at = created_at;
