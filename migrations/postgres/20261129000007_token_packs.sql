-- Pack-scoped credentials: the packs a token may write, as comma-separated globs ('*' for all).
ALTER TABLE api_tokens ADD COLUMN packs TEXT NOT NULL DEFAULT '*';
