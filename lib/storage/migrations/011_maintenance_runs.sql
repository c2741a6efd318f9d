-- When each maintenance job (the inactivity sweep) last started. Ordinary requests use the row as a
-- lease: the request whose conditional upsert returns it runs the job, every other request sees
-- nothing returned. One statement, so it works on every driver, Neon's HTTP one included (no
-- session there, so no advisory lock).
CREATE TABLE IF NOT EXISTS maintenance_runs (
  job          text PRIMARY KEY,
  last_run_at  timestamptz NOT NULL
);
