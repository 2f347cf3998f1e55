-- Packs (repositories), content-addressed blobs, and which packs reference which blobs.
-- Timestamps are milliseconds since the Unix epoch. Names and digests use the "C" collation so
-- that ordering (and therefore paging) is byte order, as on SQLite.

CREATE TABLE packs (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE blobs (
    digest     TEXT COLLATE "C" NOT NULL PRIMARY KEY,  -- 'sha256:' || 64 lowercase hex
    size       BIGINT NOT NULL CHECK (size >= 0),
    media_type TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE pack_blobs (
    pack_name  TEXT COLLATE "C" NOT NULL REFERENCES packs (name),
    digest     TEXT COLLATE "C" NOT NULL REFERENCES blobs (digest),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (pack_name, digest)
);

CREATE INDEX pack_blobs_by_digest ON pack_blobs (digest);
