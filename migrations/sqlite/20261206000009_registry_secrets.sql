-- Secrets a registry's replicas share, created on first use: the key that signs the bearer
-- tokens of the OCI token flow (`/v2/token`).
CREATE TABLE registry_secrets (
    name       TEXT   NOT NULL PRIMARY KEY,
    value      TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
