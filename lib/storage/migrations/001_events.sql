-- Students known to the system. `id` is the student's stable id: a tutoring id such as
-- "emma_smith", or, for workshop visitors known only by email, the lowercased email.
CREATE TABLE IF NOT EXISTS students (
  id            text PRIMARY KEY,
  email         text UNIQUE,
  name          text,
  phone_numbers text[] NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The event log: every workshop event and every session change. created_at is the event time
-- (client time corrected for clock skew, never in the future); received_at is arrival time.
CREATE TABLE IF NOT EXISTS events (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_uuid    uuid NOT NULL UNIQUE,
  session_token varchar(200) NOT NULL,
  student_id    text REFERENCES students (id) ON DELETE CASCADE,
  event_type    varchar(50) NOT NULL,
  event_data    jsonb NOT NULL DEFAULT '{}',
  client_ts     timestamptz,
  created_at    timestamptz NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now()
);

-- The three query shapes (by session, by student, by type), each ordered by time, and time alone.
-- (created_at, id) is the keyset the cursor pages over.
CREATE INDEX IF NOT EXISTS events_session_time ON events (session_token, created_at, id);
CREATE INDEX IF NOT EXISTS events_student_time ON events (student_id, created_at, id);
CREATE INDEX IF NOT EXISTS events_type_time ON events (event_type, created_at, id);
CREATE INDEX IF NOT EXISTS events_time ON events (created_at, id);
