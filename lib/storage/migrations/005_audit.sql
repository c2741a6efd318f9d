-- Who read or deleted what, and when. `actor` is a token id (admin, instructor:<name>), never a token.
CREATE TABLE IF NOT EXISTS audit_log (
  id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at      timestamptz NOT NULL,
  actor   text NOT NULL,
  action  text NOT NULL,
  method  text NOT NULL,
  path    text NOT NULL,
  status  int NOT NULL,
  detail  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at DESC, id DESC);
