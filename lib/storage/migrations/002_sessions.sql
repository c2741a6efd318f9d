-- One row per sitting: a tutoring call, a practice run, a workshop visit, or an explicit session
-- of two participants with an AI agent. Transcript entries and tool-call interactions are events
-- (event_type 'transcript' / 'interaction', session_token = session id), so one events query is
-- the session's whole timeline.
CREATE TABLE IF NOT EXISTS sessions (
  id                text PRIMARY KEY,
  student_id        text,
  participants      jsonb NOT NULL DEFAULT '[]',
  max_participants  int NOT NULL DEFAULT 1,
  platform          text NOT NULL DEFAULT 'generic',
  -- 'auto': opened by activity (interactions); 'explicit': created through POST /api/sessions.
  kind              text NOT NULL DEFAULT 'auto' CHECK (kind IN ('auto', 'explicit')),
  status            text NOT NULL CHECK (status IN ('waiting', 'active', 'completed', 'abandoned')),
  started_at        timestamptz NOT NULL,
  ended_at          timestamptz,
  -- 'timeout' (idle), 'explicit' (ended through the API) or a platform's reason (e.g. vapi).
  end_reason        text,
  last_activity_at  timestamptz NOT NULL,
  subject           text,
  topic             text,
  subtopic          text,
  phase             text,
  summary           text,
  agent             jsonb,
  metadata          jsonb NOT NULL DEFAULT '{}',
  -- Transcript-level facts (source, full text from a platform, duration); entries are events.
  conversation      jsonb NOT NULL DEFAULT '{}',
  platform_metadata jsonb NOT NULL DEFAULT '{}',
  interaction_count int NOT NULL DEFAULT 0,
  transcript_count  int NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Boundary detection: the student's latest sessions by activity.
CREATE INDEX IF NOT EXISTS sessions_student_activity ON sessions (student_id, last_activity_at DESC);
-- Active list and the sweep: open sessions by activity.
CREATE INDEX IF NOT EXISTS sessions_open_activity ON sessions (last_activity_at) WHERE status IN ('waiting', 'active');
-- History, newest first, keyset-paged.
CREATE INDEX IF NOT EXISTS sessions_started ON sessions (started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS sessions_waiting ON sessions (created_at) WHERE status = 'waiting';
