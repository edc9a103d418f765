CREATE INDEX facet_by_id ON facet (id, f, v);
CREATE INDEX loc_by_id ON loc (id);
CREATE INDEX prof_due ON prof (due);
ANALYZE;
