-- Change counters for cache validation across replicas. Every write that changes a pack's versions
-- or their states bumps the pack's generation and the registry's, in the same transaction, so a
-- reader that sees a generation also sees the rows written with it. A replica keeps cached version
-- rows and catalog responses only while the counters they were read under are current.
ALTER TABLE packs ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
CREATE TABLE registry_generation (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO registry_generation (id, generation) VALUES (1, 0);
