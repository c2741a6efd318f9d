-- What a public page claimed about who it is (POST /api/session-log studentEmail / studentName),
-- kept on the event as sent. The page never edits an existing student (an admin's name stays), so
-- without these columns a claim that differs from the student row would be lost.
ALTER TABLE events ADD COLUMN IF NOT EXISTS claimed_email text;
ALTER TABLE events ADD COLUMN IF NOT EXISTS claimed_name text;
