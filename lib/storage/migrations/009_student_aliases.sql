-- Other names a student goes by ("Em", a nickname, a maiden name). With `name`, they are what a
-- caller may say to identify themselves when metadata, the phone map and call links all fail
-- (lib/calls/identify.ts). Set by an admin with PUT /api/students/{id} (`aliases: []`).
ALTER TABLE students ADD COLUMN IF NOT EXISTS aliases text[] NOT NULL DEFAULT '{}';
