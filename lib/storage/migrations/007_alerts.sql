-- Alerts raised by the rules in lib/alerts/ (repeated error, error spike, stuck, call error), with
-- the state of their webhook delivery. Retries are picked by next_attempt_at.
CREATE TABLE IF NOT EXISTS alerts (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rule            text NOT NULL,
  -- What the cooldown is per: a student id (or token:<session token>), or an error type.
  key             text NOT NULL,
  student_id      text,
  session_id      text,
  title           text NOT NULL,
  detail          text NOT NULL,
  data            jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL,
  delivery_status text NOT NULL CHECK (delivery_status IN ('pending', 'delivered', 'failed', 'not_configured')),
  attempts        int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  -- A status code or an error class, never a URL or a body (the webhook URL is a secret).
  last_error      text,
  delivered_at    timestamptz
);
CREATE INDEX IF NOT EXISTS alerts_created ON alerts (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS alerts_due ON alerts (next_attempt_at) WHERE delivery_status = 'pending';
CREATE INDEX IF NOT EXISTS alerts_student ON alerts (student_id);

-- The cooldown, enforced by Postgres: one row per (rule, key). A new alert claims the row only when
-- `until` has passed (INSERT .. ON CONFLICT DO UPDATE .. WHERE), so concurrent evaluations on any
-- number of instances raise at most one alert per cooldown.
CREATE TABLE IF NOT EXISTS alert_cooldowns (
  rule  text NOT NULL,
  key   text NOT NULL,
  until timestamptz NOT NULL,
  PRIMARY KEY (rule, key)
);
