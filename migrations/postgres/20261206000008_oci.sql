-- The OCI distribution API (issue 15). Blob contents live in the shared content-addressed store
-- (`blobs`); these tables say which repository may serve which blob, the manifests (stored byte
-- for byte: at most 4 MiB each), their tags, what each manifest references (for the reference
-- checks of a push, and for gc) and the upload sessions in progress.

CREATE TABLE oci_repository_blobs (
    repository TEXT COLLATE "C" NOT NULL,
    digest     TEXT COLLATE "C" NOT NULL REFERENCES blobs (digest),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (repository, digest)
);
CREATE INDEX oci_repository_blobs_by_digest ON oci_repository_blobs (digest);

CREATE TABLE oci_manifests (
    repository    TEXT COLLATE "C" NOT NULL,
    digest        TEXT COLLATE "C" NOT NULL,
    media_type    TEXT COLLATE "C" NOT NULL,
    -- artifactType, or the config's media type of an image manifest without one (for referrers)
    artifact_type TEXT,
    subject       TEXT,
    -- the manifest's annotations as a JSON object, or NULL
    annotations   TEXT,
    content       BYTEA  NOT NULL,
    size          BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (repository, digest)
);
CREATE INDEX oci_manifests_by_subject ON oci_manifests (repository, subject);

CREATE TABLE oci_tags (
    repository TEXT COLLATE "C" NOT NULL,
    tag        TEXT COLLATE "C" NOT NULL,
    digest     TEXT COLLATE "C" NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (repository, tag),
    FOREIGN KEY (repository, digest) REFERENCES oci_manifests (repository, digest) ON DELETE CASCADE
);
CREATE INDEX oci_tags_by_digest ON oci_tags (repository, digest);

-- What a manifest references: its config and layers ('blob') or an index's manifests ('manifest').
CREATE TABLE oci_manifest_references (
    repository      TEXT COLLATE "C" NOT NULL,
    manifest_digest TEXT COLLATE "C" NOT NULL,
    child_digest    TEXT COLLATE "C" NOT NULL,
    kind            TEXT NOT NULL,
    PRIMARY KEY (repository, manifest_digest, child_digest),
    FOREIGN KEY (repository, manifest_digest) REFERENCES oci_manifests (repository, digest) ON DELETE CASCADE
);
CREATE INDEX oci_manifest_references_by_child ON oci_manifest_references (child_digest);

CREATE TABLE oci_uploads (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    repository TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    touched_at BIGINT NOT NULL
);
