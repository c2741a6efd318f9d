import * as z from '../util/zod.js';
import { SessionStatus } from './ids.js';

/** A position in a session's arrival order (the events table's id), as `id:` lines carry it. */
export const StreamSeq = z.string().check(z.regex(/^\d{1,19}$/, 'must be a sequence number from an `id:` line or last_seq'));

/** GET /api/sessions/{id}/stream — the query string (Last-Event-ID, when sent, wins over `after`). */
export const SessionStreamQuery = z.object({
  /** Resume after this sequence number (for clients that cannot set Last-Event-ID); `0` = the whole timeline first. Default: from now on. */
  after: z.optional(StreamSeq),
  /** A stream token from POST /api/sessions/{id}/stream-token, instead of an Authorization header. */
  token: z.optional(z.string().check(z.maxLength(512))),
});

/** `event: status` and `event: end` data. */
export const StreamStatus = z.object({
  session_id: z.string(),
  status: SessionStatus,
  end_time: z.nullable(z.iso.datetime()),
  end_reason: z.nullable(z.string()),
});
export type StreamStatus = z.infer<typeof StreamStatus>;

/** POST /api/sessions/{id}/stream-token. */
export const StreamTokenResponse = z.object({
  session_id: z.string(),
  token: z.string(),
  expires_at: z.iso.datetime(),
  /** The stream's path with the token, ready for `new EventSource(...)`. */
  stream_url: z.string(),
});
