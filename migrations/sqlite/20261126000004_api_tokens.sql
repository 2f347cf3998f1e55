-- API tokens: only the sha256 of each token is kept.
CREATE TABLE api_tokens (
    name       TEXT NOT NULL PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,   -- hex sha256 of the token
    scope      TEXT NOT NULL,            -- read | write | admin
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
