-- Pause and resume (POST /api/sessions/{id}/pause, /resume). A paused session keeps its stored
-- status ('active' or 'waiting': it is still open and takes writes); `paused_at` set and no
-- `ended_at` is what makes it paused. The inactivity timeout skips it, and the time it spends
-- paused goes into `paused_ms` when it resumes or ends, so the active duration is
-- end - start - paused_ms (lib/sessions/duration.ts). bigint: a pause may outlast int's 24 days.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS paused_at timestamptz;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS paused_ms bigint NOT NULL DEFAULT 0;
-- Interactions find the student's paused sitting whatever its age (it resumes implicitly).
CREATE INDEX IF NOT EXISTS sessions_paused ON sessions (student_id) WHERE paused_at IS NOT NULL AND ended_at IS NULL;

-- The analysis token budget (ANALYSIS_DAILY_TOKEN_BUDGET). One row per UTC day: tokens the
-- provider reported for the day's analyses, and `reserved_tokens` held by analyses in flight (an
-- estimate taken before the call, settled to the real usage after it). A run reserves only while
-- used + reserved + its estimate fits the budget, under this row's lock, so concurrent runs cannot
-- all pass the check on the same stale total.
CREATE TABLE IF NOT EXISTS analysis_usage (
  day              date PRIMARY KEY,
  input_tokens     bigint NOT NULL DEFAULT 0,
  output_tokens    bigint NOT NULL DEFAULT 0,
  reserved_tokens  bigint NOT NULL DEFAULT 0,
  analyses         int NOT NULL DEFAULT 0,
  deferred         int NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- 'deferred': the day's budget was spent; next_attempt_at is the next UTC midnight and the sweep
-- runs it then. Not a failure: attempts are not counted.
ALTER TABLE analyses DROP CONSTRAINT IF EXISTS analyses_status_check;
ALTER TABLE analyses ADD CONSTRAINT analyses_status_check CHECK (status IN ('pending', 'completed', 'failed', 'deferred'));
-- The reservation a run holds while pending, so settling (or recovering an interrupted run)
-- releases exactly what was reserved, on the day it was reserved.
ALTER TABLE analyses ADD COLUMN IF NOT EXISTS reserved_tokens int;
ALTER TABLE analyses ADD COLUMN IF NOT EXISTS reserved_day date;
CREATE INDEX IF NOT EXISTS analyses_deferred ON analyses (next_attempt_at) WHERE status = 'deferred';
