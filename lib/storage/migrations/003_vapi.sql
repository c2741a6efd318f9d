-- Calls seen from voice platforms, each linked to the session it joined. The durable half of the
-- call→session link (KV caches it) and the marker that an end-of-call report was applied.
CREATE TABLE IF NOT EXISTS calls (
  call_id            text PRIMARY KEY,
  platform           text NOT NULL DEFAULT 'vapi',
  session_id         text NOT NULL,
  student_id         text,
  started_at         timestamptz,
  report_received_at timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS calls_session ON calls (session_id);

-- Caller phone numbers map calls to students.
CREATE INDEX IF NOT EXISTS students_phone_numbers ON students USING gin (phone_numbers);
