import * as z from '../util/zod.js';
import { IsoDateTime } from './common.js';

/** GET /api/students/{student_id}/progress query. */
export const ProgressQuery = z.object({
  /** Trends cover the student's last N sessions. */
  last: z.optional(z.coerce.number({ message: 'must be a number' }).check(z.int(), z.minimum(2, 'must be at least 2'), z.maximum(100, 'must be at most 100'))),
  /** A topic is "not revisited" when it is absent from the last K sessions. */
  recent: z.optional(z.coerce.number({ message: 'must be a number' }).check(z.int(), z.minimum(1, 'must be at least 1'), z.maximum(50, 'must be at most 50'))),
});
export type ProgressQuery = z.infer<typeof ProgressQuery>;

/** One session as the progress page shows it. */
export const ProgressSession = z.object({
  session_id: z.string(),
  platform: z.string(),
  kind: z.enum(['auto', 'explicit']),
  status: z.string(),
  start_time: IsoDateTime,
  end_time: z.nullable(IsoDateTime),
  duration_seconds: z.int().check(z.minimum(0)),
  subject: z.nullable(z.string()),
  topic: z.nullable(z.string()),
  /** The session's subject, the subjects its tool calls accessed and its attempts named. */
  subjects: z.array(z.string()),
  /** The session's topic and subtopic and the topics its attempts named. */
  topics: z.array(z.string()),
  interactions: z.int(),
  transcript_turns: z.int(),
  events: z.int(),
  errors: z.int(),
  attempts: z.int(),
  correct: z.int(),
  accuracy: z.nullable(z.number().check(z.minimum(0), z.maximum(1))),
  avg_time_per_attempt_ms: z.nullable(z.int().check(z.minimum(0))),
  /** From the session's latest completed analysis (null / empty when it has none). */
  engagement_score: z.nullable(z.number().check(z.minimum(0), z.maximum(1))),
  next_steps: z.array(z.string()),
  concepts_covered: z.array(z.string()),
  analysis_id: z.nullable(z.string()),
});
export type ProgressSession = z.infer<typeof ProgressSession>;

export const TrendPoint = z.object({ session_id: z.string(), start_time: IsoDateTime, value: z.nullable(z.number()) });

/** One metric over the last N sessions: the values, oldest first, and their least-squares slope. */
export const Trend = z.object({
  values: z.array(TrendPoint),
  /** Points with a value (sessions without one, e.g. no attempts, are skipped, not zero). */
  points: z.int(),
  /** Change per session (x = the session's position in the window); null under two points. */
  slope: z.nullable(z.number()),
  direction: z.nullable(z.enum(['up', 'down', 'flat'])),
  /** Whether the direction is good for the student (time per attempt: down is better); null for duration. */
  improving: z.nullable(z.boolean()),
});
export type Trend = z.infer<typeof Trend>;

export const TopicCoverage = z.object({
  name: z.string(),
  kind: z.enum(['subject', 'topic']),
  sessions: z.int(),
  first_seen: IsoDateTime,
  last_seen: IsoDateTime,
  last_session_id: z.string(),
});

export const OutstandingStep = z.object({
  step: z.string(),
  suggested_in: z.string(),
  suggested_at: IsoDateTime,
  /** How many analyses suggested it (the same text, case-insensitive) without a later session addressing it. */
  times_suggested: z.int().check(z.minimum(1)),
});
export type OutstandingStep = z.infer<typeof OutstandingStep>;

export const StudentProgress = z.object({
  student: z.object({ id: z.string(), name: z.nullable(z.string()), email: z.nullable(z.string()) }),
  /** All of the student's sessions; `sessions` holds at most the latest 200 of them. */
  session_count: z.int(),
  truncated: z.boolean(),
  sessions: z.array(ProgressSession),
  trends: z.object({
    last: z.int(),
    accuracy: Trend,
    time_per_attempt_ms: Trend,
    duration_seconds: Trend,
    engagement: Trend,
  }),
  topics: z.object({
    recent: z.int(),
    covered: z.array(TopicCoverage),
    /** Covered in an earlier session but in none of the last `recent` sessions. */
    not_revisited: z.array(TopicCoverage),
  }),
  /** Suggested by an analysis and not addressed by a later session (README "Student progress"). */
  outstanding_next_steps: z.array(OutstandingStep),
});
export type StudentProgress = z.infer<typeof StudentProgress>;
