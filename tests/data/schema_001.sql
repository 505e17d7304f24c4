-- The schema of the first release (migration 001_initial), frozen.
-- tests/test_migrations.py upgrades a database made from this file alone and checks
-- that migration 001 still makes exactly this schema. Never edit it.

CREATE TABLE "sources" (
   "id" TEXT PRIMARY KEY,
   "name" TEXT,
   "family" TEXT,
   "url" TEXT,
   "regions" TEXT,
   "networks" TEXT,
   "schedule" TEXT
);

CREATE TABLE "regions" (
   "slug" TEXT PRIMARY KEY,
   "name_fi" TEXT,
   "name_sv" TEXT,
   "brands" TEXT,
   "kind" TEXT
);

CREATE TABLE "networks" (
   "slug" TEXT PRIMARY KEY,
   "name" TEXT,
   "aliases" TEXT
);

CREATE TABLE "runs" (
   "id" INTEGER PRIMARY KEY,
   "started" TEXT,
   "finished" TEXT,
   "status" TEXT,
   "fetched" INTEGER,
   "not_modified" INTEGER,
   "failed" INTEGER,
   "changes" INTEGER,
   "exit_code" INTEGER
);

CREATE TABLE "pages" (
   "id" INTEGER PRIMARY KEY,
   "source_id" TEXT REFERENCES "sources"("id"),
   "url" TEXT,
   "title" TEXT,
   "family" TEXT,
   "first_seen" TEXT,
   "last_seen" TEXT,
   "status" TEXT,
   "missing_count" INTEGER,
   "failures" INTEGER,
   "etag" TEXT,
   "last_modified" TEXT,
   "discovered_from" INTEGER
);

CREATE UNIQUE INDEX "idx_pages_source_id_url"
    ON "pages" ("source_id", "url");

CREATE TABLE "bodies" (
   "hash" TEXT PRIMARY KEY,
   "content_type" TEXT,
   "size" INTEGER,
   "compression" TEXT,
   "data" BLOB
);

CREATE TABLE "fetches" (
   "id" INTEGER PRIMARY KEY,
   "run_id" INTEGER REFERENCES "runs"("id"),
   "page_id" INTEGER REFERENCES "pages"("id"),
   "source_id" TEXT REFERENCES "sources"("id"),
   "url" TEXT,
   "fetched_at" TEXT,
   "status_code" INTEGER,
   "outcome" TEXT,
   "bytes" INTEGER,
   "elapsed_ms" REAL,
   "attempts" INTEGER,
   "error" TEXT,
   "body_hash" TEXT
);

CREATE INDEX "idx_fetches_page_id_id"
    ON "fetches" ("page_id", "id");

CREATE TABLE "snapshots" (
   "id" INTEGER PRIMARY KEY,
   "page_id" INTEGER REFERENCES "pages"("id"),
   "fetch_id" INTEGER REFERENCES "fetches"("id"),
   "taken_at" TEXT,
   "doc_hash" TEXT,
   "title" TEXT,
   "language" TEXT,
   "text" TEXT,
   "document" TEXT,
   "body_hash" TEXT REFERENCES "bodies"("hash")
);

CREATE INDEX "idx_snapshots_page_id_id"
    ON "snapshots" ("page_id", "id");

CREATE TABLE "changes" (
   "id" INTEGER PRIMARY KEY,
   "run_id" INTEGER REFERENCES "runs"("id"),
   "page_id" INTEGER REFERENCES "pages"("id"),
   "snapshot_id" INTEGER REFERENCES "snapshots"("id"),
   "previous_snapshot_id" INTEGER REFERENCES "snapshots"("id"),
   "detected_at" TEXT,
   "kind" TEXT,
   "section" TEXT,
   "before" TEXT,
   "after" TEXT,
   "summary" TEXT,
   "regions" TEXT,
   "networks" TEXT
);

CREATE INDEX "idx_changes_page_id_id"
    ON "changes" ("page_id", "id");

CREATE INDEX "idx_changes_detected_at"
    ON "changes" ("detected_at");

CREATE TABLE "change_regions" (
   "change_id" INTEGER REFERENCES "changes"("id"),
   "region" TEXT REFERENCES "regions"("slug"),
   PRIMARY KEY ("change_id", "region")
);

CREATE TABLE "change_networks" (
   "change_id" INTEGER REFERENCES "changes"("id"),
   "network" TEXT REFERENCES "networks"("slug"),
   PRIMARY KEY ("change_id", "network")
);
