CREATE INDEX loc_geog ON loc USING gist (geog);
CREATE INDEX loc_id ON loc (id);
-- a GIN index on every facet column f_<facet> is made by NewPostgres
-- (pgFacetIndexes)
CREATE INDEX prof_tsv ON prof USING gin (tsv);
CREATE INDEX prof_due ON prof (due);
CREATE INDEX prof_rot ON prof (rot, id);
ANALYZE;
