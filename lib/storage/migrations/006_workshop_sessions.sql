-- Workshop sessions are sessions: a session token that posts events to POST /api/session-log is a
-- sessions row (id = token, platform 'web', kind 'auto') kept current by the ingest statement itself
-- (lib/events/ingest.ts), so the Sessions page, Active now and the student filter see workshop students.
--
-- `workshop` marks the rows the public ingest owns. Ingest only ever updates rows with it set: a
-- token equal to the id of a tutoring, explicit or voice session never converts that session.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS workshop boolean NOT NULL DEFAULT false;
-- The step the student is on: eventData.currentStep / eventData.stepName of the latest event (by
-- event time, not arrival) that carried each, and that event's time, so a late batch of older
-- events cannot move the student back.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS current_step text;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS step_at timestamptz;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS step_name text;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS step_name_at timestamptz;
-- Events and errors posted to the token (workshop rows only; other sessions are counted on read).
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS event_count int NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS error_count int NOT NULL DEFAULT 0;

-- Tokens that posted before this migration become sessions too, so history reads the same as what
-- comes after. Tokens that are already session ids (and tokens holding only session-record events)
-- are left alone. Sittings idle for a day are over whatever the configured timeout (at most 24 h).
INSERT INTO sessions (id, student_id, platform, kind, status, started_at, last_activity_at, ended_at, end_reason,
                      workshop, event_count, error_count, current_step, step_at, step_name, step_name_at, participants)
SELECT t.token, t.student_id, 'web', 'auto',
       CASE WHEN t.last_at < now() - interval '1 day' THEN 'completed' ELSE 'active' END,
       t.first_at, t.last_at,
       CASE WHEN t.last_at < now() - interval '1 day' THEN t.last_at END,
       CASE WHEN t.last_at < now() - interval '1 day' THEN 'timeout' END,
       true, t.n, t.errors,
       left(st.step, 200), st.at, left(sn.name, 200), sn.at,
       CASE WHEN t.student_id IS NULL THEN '[]'::jsonb
            ELSE jsonb_build_array(jsonb_build_object('id', t.student_id, 'role', 'student',
                   'joined_at', to_char(t.first_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) END
FROM (
  SELECT e.session_token AS token, min(e.created_at) AS first_at, max(e.created_at) AS last_at,
         count(*)::int AS n, (count(*) FILTER (WHERE e.event_type = 'error'))::int AS errors,
         (array_agg(e.student_id ORDER BY e.created_at DESC, e.id DESC) FILTER (WHERE e.student_id IS NOT NULL))[1] AS student_id
  FROM events e
  WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = e.session_token)
  GROUP BY e.session_token
  HAVING count(*) FILTER (WHERE e.event_type NOT IN ('interaction', 'transcript', 'session_started', 'session_ended',
           'phase_changed', 'participant_joined', 'summary_updated', 'analysis_completed', 'call_status', 'call_hang',
           'tool_result', 'session_assigned')) > 0
) t
LEFT JOIN LATERAL (
  SELECT e.event_data->>'currentStep' AS step, e.created_at AS at FROM events e
  WHERE e.session_token = t.token AND jsonb_typeof(e.event_data->'currentStep') NOT IN ('null', 'object', 'array')
  ORDER BY e.created_at DESC, e.id DESC LIMIT 1
) st ON true
LEFT JOIN LATERAL (
  SELECT e.event_data->>'stepName' AS name, e.created_at AS at FROM events e
  WHERE e.session_token = t.token AND jsonb_typeof(e.event_data->'stepName') NOT IN ('null', 'object', 'array')
  ORDER BY e.created_at DESC, e.id DESC LIMIT 1
) sn ON true
ON CONFLICT (id) DO NOTHING;

-- Earlier anonymous events of a token whose student is known belong to that student (their export).
UPDATE events e SET student_id = s.student_id
FROM sessions s
WHERE s.workshop AND s.student_id IS NOT NULL AND e.session_token = s.id AND e.student_id IS NULL
  AND EXISTS (SELECT 1 FROM students st WHERE st.id = s.student_id);

-- Search by any part (GET /api/sessions?q=): trigram GIN indexes serve LIKE '%part%' on the
-- lowercased session id/token, student id, and the student's email and name. On lower(...) rather
-- than the bare column on purpose: pg_trgm (1.6+) also answers `=`, and the planner then picks a
-- trigram index over the btree for plain id lookups (a join on sessions.id took milliseconds per row
-- in the bench, on trigrams every id shares); an expression index only serves the search itself.
-- pg_trgm ships with Neon, self-hosted Postgres (a trusted extension since 13) and PGlite (loaded in
-- lib/storage/sql-pglite.ts). Where it cannot be created the migration still applies: the search
-- works, by a sequential scan.
DO $trgm$ BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'pg_trgm unavailable (%): session search runs without trigram indexes', SQLERRM;
END $trgm$;

DO $trgm_idx$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    EXECUTE 'CREATE INDEX IF NOT EXISTS sessions_id_trgm ON sessions USING gin (lower(id) gin_trgm_ops)';
    EXECUTE 'CREATE INDEX IF NOT EXISTS sessions_student_trgm ON sessions USING gin (lower(student_id) gin_trgm_ops)';
    EXECUTE 'CREATE INDEX IF NOT EXISTS students_email_trgm ON students USING gin (lower(email) gin_trgm_ops)';
    EXECUTE 'CREATE INDEX IF NOT EXISTS students_name_trgm ON students USING gin (lower(name) gin_trgm_ops)';
  END IF;
END $trgm_idx$;
