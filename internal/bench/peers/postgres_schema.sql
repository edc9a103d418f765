-- The PostgreSQL 15 + PostGIS 3 peer: what a strong PostgreSQL engineer
-- would build for the same search. Public profiles only (the benchmark
-- fixes "now"). rot is the day's rotation key with its top bit flipped so
-- that signed order equals unsigned order.
CREATE EXTENSION IF NOT EXISTS postgis;
DROP TABLE IF EXISTS tf, loc, prof CASCADE;
CREATE TABLE prof (
    id           bigint PRIMARY KEY,
    due          date    NOT NULL,
    fee_min      integer NOT NULL,
    concessions  boolean NOT NULL,
    availability text    NOT NULL,
    confirmed_at timestamptz NOT NULL,
    doc_len      integer NOT NULL,
    rot          bigint  NOT NULL,
    -- one text[] column f_<facet> per facet of the search package's
    -- facet table is added by NewPostgres (pgFacetColumns)
    body         text    NOT NULL, -- Confide's analysed terms
    tsv          tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED
);
CREATE TABLE loc (
    id         bigint    NOT NULL,
    lat        float8    NOT NULL,
    lon        float8    NOT NULL,
    geog       geography(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED,
    wheelchair boolean   NOT NULL
);
-- Term frequencies for Confide's BM25, in byte order (C collation) so that
-- prefix ranges match Confide's.
CREATE TABLE tf (
    term text COLLATE "C" NOT NULL,
    id   bigint NOT NULL,
    tf   integer NOT NULL,
    PRIMARY KEY (term, id)
);
