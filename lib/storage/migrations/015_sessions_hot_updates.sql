-- Ingest rewrites a workshop session's row in every statement (its counts, latest step and last
-- activity). Of the columns it writes only last_activity_at was indexed, and that was enough to make
-- every update write a new entry into each of the table's eight indexes, the two trigram GIN indexes
-- included, whose pending lists then grew to 4 MB and were merged inline by whichever ingest
-- statement crossed the limit: ~30 ms, every second or two under load. With no index on
-- last_activity_at the update is HOT (heap-only): the row's new version goes on the same page and
-- no index is touched (ADR 0027).
--
-- A student's sessions, newest first: progress, the history's student filter, and the sittings
-- boundary detection looks through (a student has tens of sessions; they are sorted when read).
CREATE INDEX IF NOT EXISTS sessions_student_started ON sessions (student_id, started_at DESC);
-- The open sessions (the active list, the sweep, matchmaking): few, sorted by activity when read.
CREATE INDEX IF NOT EXISTS sessions_open ON sessions (id) WHERE status IN ('waiting', 'active');
DROP INDEX IF EXISTS sessions_student_activity;
DROP INDEX IF EXISTS sessions_open_activity;
-- Room on each page for the new version of an updated row: a HOT update needs it on the same page.
ALTER TABLE sessions SET (fillfactor = 80);
