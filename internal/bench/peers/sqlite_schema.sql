-- The SQLite peer: what a strong SQLite engineer would build for the same
-- search. Public profiles only (the benchmark fixes "now"). rot is the
-- day's rotation key with its top bit flipped so that signed order equals
-- unsigned order.
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;

CREATE TABLE prof (
    id           INTEGER PRIMARY KEY,
    due          TEXT    NOT NULL,
    fee_min      INTEGER NOT NULL,
    concessions  INTEGER NOT NULL,
    availability TEXT    NOT NULL,
    confirmed_at TEXT    NOT NULL,
    doc_len      INTEGER NOT NULL,
    rot          INTEGER NOT NULL
);

-- Every facet value of every profile (f is a facet of the search
-- package's facet table: format, approach, issue, client, language,
-- gender), clustered by value for filters and by profile for counts.
CREATE TABLE facet (
    f  TEXT    NOT NULL,
    v  TEXT    NOT NULL,
    id INTEGER NOT NULL,
    PRIMARY KEY (f, v, id)
) WITHOUT ROWID;

-- Practice positions (district centroids) and an R*Tree over them.
CREATE TABLE loc (
    lid        INTEGER PRIMARY KEY,
    id         INTEGER NOT NULL,
    lat        REAL    NOT NULL,
    lon        REAL    NOT NULL,
    wheelchair INTEGER NOT NULL
);
CREATE VIRTUAL TABLE loc_rt USING rtree(lid, min_lat, max_lat, min_lon, max_lon);

-- Full text: FTS5 over each profile's analysed terms (Confide's stems, so
-- both systems match the same words), and term frequencies for scoring
-- with Confide's BM25 (FTS5's bm25() weighs fields and IDF differently).
CREATE VIRTUAL TABLE fts USING fts5(body, content='', columnsize=0, detail=none, tokenize='unicode61 remove_diacritics 0');
CREATE TABLE tf (
    term TEXT    NOT NULL,
    id   INTEGER NOT NULL,
    tf   INTEGER NOT NULL,
    PRIMARY KEY (term, id)
) WITHOUT ROWID;
