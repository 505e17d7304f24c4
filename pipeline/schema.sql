-- made by the migrations: 001_initial, 002_search, 003_fetch_log, 004_compact, 005_offers_links, 006_input_hash
CREATE TABLE "_migrations" (
   "name" TEXT PRIMARY KEY,
   "applied_at" TEXT
);

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
, "last_checked" TEXT, "last_status" INTEGER, "offers_links" INTEGER NOT NULL DEFAULT 0, "input_hash" TEXT);

CREATE TABLE "bodies" (
   "hash" TEXT PRIMARY KEY,
   "content_type" TEXT,
   "size" INTEGER,
   "compression" TEXT,
   "data" BLOB
, "base" TEXT);

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

CREATE TABLE "snapshots" (
   "id" INTEGER PRIMARY KEY,
   "page_id" INTEGER REFERENCES "pages"("id"),
   "fetch_id" INTEGER REFERENCES "fetches"("id"),
   "taken_at" TEXT,
   "doc_hash" TEXT,
   "title" TEXT,
   "language" TEXT,
   "document" TEXT,
   "body_hash" TEXT REFERENCES "bodies"("hash")
);

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

CREATE VIRTUAL TABLE snapshots_fts using fts5(title, text, lemmas, tokenize = 'unicode61 remove_diacritics 0');

CREATE VIRTUAL TABLE changes_fts using fts5(page_title, section, summary, before, after, lemmas, tokenize = 'unicode61 remove_diacritics 0');

CREATE TABLE "source_checks" (
   "run_id" INTEGER REFERENCES "runs"("id"),
   "source_id" TEXT REFERENCES "sources"("id"),
   "checked_at" TEXT,
   "unchanged" INTEGER,
   "not_modified" INTEGER,
   PRIMARY KEY ("run_id", "source_id")
);

CREATE TABLE "search_state" (
   "name" TEXT PRIMARY KEY,
   "value" INTEGER
);

CREATE UNIQUE INDEX "idx_pages_source_id_url"
    ON "pages" ("source_id", "url");

CREATE INDEX "idx_fetches_page_id_id"
    ON "fetches" ("page_id", "id");

CREATE INDEX "idx_snapshots_page_id_id"
    ON "snapshots" ("page_id", "id");

CREATE INDEX "idx_changes_page_id_id"
    ON "changes" ("page_id", "id");

CREATE INDEX "idx_changes_detected_at"
    ON "changes" ("detected_at");

CREATE INDEX bodies_base on bodies (base) where base is not null;

CREATE INDEX "idx_fetches_source_id_fetched_at"
    ON "fetches" ("source_id", "fetched_at");

CREATE VIEW change_log as
    select c.id as change_id, c.detected_at, p.source_id,
        coalesce((select title from snapshots t where t.page_id = c.page_id
                  order by t.id desc limit 1), p.title, p.url) as page_title,
        c.kind, c.section, c.summary, c.regions, c.networks, c.before, c.after,
        p.url as page_url, c.page_id, c.snapshot_id, c.previous_snapshot_id, c.run_id
    from changes c join pages p on p.id = c.page_id;

CREATE VIEW contacts_now as
    select p.id as page_id, s.title as page_title, p.url as page_url, s.id as snapshot_id,
        s.taken_at as as_of,
        json_extract(j.value, '$.name') as name,
        json_extract(j.value, '$.title') as title,
        json_extract(j.value, '$.organisation') as organisation,
        json_extract(j.value, '$.phone') as phone,
        json_extract(j.value, '$.email') as email,
        json_extract(j.value, '$.section') as section
    from pages p
    join snapshots s on s.id = (select max(id) from snapshots where page_id = p.id)
    join json_each(s.document, '$.contacts') j
    where p.status = 'active';

CREATE VIEW contact_history as
    select s.page_id, p.url as page_url,
        json_extract(j.value, '$.name') as name,
        json_extract(j.value, '$.title') as title,
        json_extract(j.value, '$.organisation') as organisation,
        json_extract(j.value, '$.phone') as phone,
        json_extract(j.value, '$.email') as email,
        json_extract(j.value, '$.section') as section,
        min(s.taken_at) as first_seen, max(s.taken_at) as last_seen,
        count(*) as versions,
        max(s.id) = (select max(id) from snapshots l where l.page_id = s.page_id) as current
    from snapshots s join pages p on p.id = s.page_id
    join json_each(s.document, '$.contacts') j
    group by 1, 2, 3, 4, 5, 6, 7, 8;

CREATE VIEW weekly_activity as
    select date(c.detected_at, 'weekday 0', '-6 days') as week, 'region' as dimension,
        cr.region as slug, coalesce(r.name_fi, cr.region) as name, count(*) as changes
    from changes c join change_regions cr on cr.change_id = c.id
    left join regions r on r.slug = cr.region
    group by 1, 2, 3, 4
    union all
    select date(c.detected_at, 'weekday 0', '-6 days'), 'network', cn.network,
        coalesce(n.name, cn.network), count(*)
    from changes c join change_networks cn on cn.change_id = c.id
    left join networks n on n.slug = cn.network
    group by 1, 2, 3, 4;

CREATE VIEW snapshot_texts as
    select s.id as snapshot_id, s.page_id, s.taken_at, s.title, s.language,
        (select group_concat(part, char(10, 10)) from (
    select s.title as part, -1 as section, -1 as position
    union all
    select (select group_concat(h.value, ' / ') from json_each(sec.value, '$.path') h),
        sec.key, -1
    from json_each(s.document, '$.sections') sec
    union all
    select p.value, sec.key, p.key
    from json_each(s.document, '$.sections') sec, json_each(sec.value, '$.paragraphs') p
    order by section, position) where part != '') as text
    from snapshots s;

CREATE VIEW latest_snapshots as
    select p.id as page_id, s.id as snapshot_id, p.source_id, s.title, p.url, s.language,
        s.taken_at, p.status, p.last_seen,
        (select count(*) from snapshots v where v.page_id = p.id) as versions,
        (select group_concat(part, char(10, 10)) from (
    select s.title as part, -1 as section, -1 as position
    union all
    select (select group_concat(h.value, ' / ') from json_each(sec.value, '$.path') h),
        sec.key, -1
    from json_each(s.document, '$.sections') sec
    union all
    select p.value, sec.key, p.key
    from json_each(s.document, '$.sections') sec, json_each(sec.value, '$.paragraphs') p
    order by section, position) where part != '') as text
    from pages p
    join snapshots s on s.id = (select max(id) from snapshots where page_id = p.id);

CREATE VIEW page_versions as
    select s.page_id, s.id as snapshot_id, s.taken_at, s.title, p.url, s.language,
        length((select group_concat(part, char(10, 10)) from (
    select s.title as part, -1 as section, -1 as position
    union all
    select (select group_concat(h.value, ' / ') from json_each(sec.value, '$.path') h),
        sec.key, -1
    from json_each(s.document, '$.sections') sec
    union all
    select p.value, sec.key, p.key
    from json_each(s.document, '$.sections') sec, json_each(sec.value, '$.paragraphs') p
    order by section, position) where part != '')) as characters,
        (select count(*) from changes c where c.snapshot_id = s.id) as changes,
        (select max(id) from snapshots o where o.page_id = s.page_id and o.id < s.id)
            as previous_snapshot_id,
        (select min(id) from snapshots o where o.page_id = s.page_id and o.id > s.id)
            as next_snapshot_id
    from snapshots s join pages p on p.id = s.page_id;

