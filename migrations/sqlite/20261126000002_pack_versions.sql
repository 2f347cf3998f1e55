-- Pack versions (immutable content; state may change), the clouds and blobs each references, and
-- an audit trail of publishes, forced replaces and state changes.

CREATE TABLE pack_versions (
    uid            TEXT NOT NULL PRIMARY KEY,   -- 24 hex, derived from name, version and digest
    pack_name      TEXT NOT NULL REFERENCES packs (name),
    version        TEXT NOT NULL,               -- exactly as published
    version_key    TEXT NOT NULL,               -- byte order = lenient version order
    tag            TEXT NOT NULL,               -- version, or <group>__<version>
    display_name   TEXT NOT NULL,
    layer          TEXT NOT NULL,
    pack_type      TEXT NOT NULL,
    addon_type     TEXT,
    addon_sub_type TEXT,
    group_name     TEXT,
    cloud_types    TEXT NOT NULL,                 -- JSON array, as published
    annotations    TEXT NOT NULL,                 -- JSON object, as published
    source         TEXT,                          -- annotations.source
    is_fips        BIGINT NOT NULL DEFAULT 0,
    state          TEXT NOT NULL,
    digest         TEXT NOT NULL,               -- canonical content digest
    archive_digest TEXT NOT NULL REFERENCES blobs (digest),
    logo_digest    TEXT REFERENCES blobs (digest),
    document       TEXT NOT NULL,                 -- the validated pack as JSON, without manifests
    manifests      TEXT NOT NULL,                 -- the manifest files as JSON (read only to render)
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (pack_name, version)
);

CREATE INDEX pack_versions_by_pack ON pack_versions (pack_name, version_key);
CREATE INDEX pack_versions_by_layer ON pack_versions (layer, pack_name, version_key);

CREATE TABLE pack_version_clouds (
    version_uid TEXT NOT NULL REFERENCES pack_versions (uid) ON DELETE CASCADE,
    cloud_type  TEXT NOT NULL,
    PRIMARY KEY (version_uid, cloud_type)
);

CREATE INDEX pack_version_clouds_by_cloud ON pack_version_clouds (cloud_type, version_uid);

CREATE TABLE pack_version_blobs (
    version_uid TEXT NOT NULL REFERENCES pack_versions (uid) ON DELETE CASCADE,
    path        TEXT NOT NULL,                 -- archive, logo.png, charts/x.tgz
    role        TEXT NOT NULL,                   -- archive | logo | chart
    digest      TEXT NOT NULL REFERENCES blobs (digest),
    PRIMARY KEY (version_uid, path)
);

CREATE INDEX pack_version_blobs_by_digest ON pack_version_blobs (digest);

CREATE TABLE pack_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    pack_name   TEXT NOT NULL,
    version     TEXT NOT NULL,
    action      TEXT NOT NULL,                   -- publish | replace | state
    actor       TEXT NOT NULL,
    message     TEXT,
    old_digest  TEXT,
    new_digest  TEXT,
    old_state   TEXT,
    new_state   TEXT,
    at          BIGINT NOT NULL
);

CREATE INDEX pack_events_by_version ON pack_events (pack_name, version, id);

-- The newest listed version of each pack, kept current by every write that can change it, so
-- searches that show one row per pack need no per-request version sorting.
ALTER TABLE packs ADD COLUMN latest_uid TEXT;
