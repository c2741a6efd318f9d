-- LLM analyses of sessions, one row per attempt series of (session, template). The partial unique
-- index is the cost guard: at most one pending analysis per session and template at a time.
CREATE TABLE IF NOT EXISTS analyses (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id      text NOT NULL,
  template        text NOT NULL,
  template_hash   text NOT NULL,
  model           text NOT NULL,
  trigger         text NOT NULL,
  status          text NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
  result          jsonb,
  error           text,
  input_tokens    int,
  output_tokens   int,
  latency_ms      int,
  attempts        int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  completed_at    timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS analyses_one_pending ON analyses (session_id, template) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS analyses_session ON analyses (session_id, created_at DESC);
CREATE INDEX IF NOT EXISTS analyses_retry ON analyses (next_attempt_at) WHERE status = 'failed';
