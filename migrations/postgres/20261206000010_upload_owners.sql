-- Who opened each OCI upload session and how many bytes it holds: sessions are capped per
-- credential (--max-upload-sessions) and in staged bytes (--max-staged-bytes).
ALTER TABLE oci_uploads ADD COLUMN owner TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE oci_uploads ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
CREATE INDEX oci_uploads_owner ON oci_uploads (owner, touched_at);
