import * as z from '../util/zod.js';
import { Email, SafeText } from './common.js';

const Phone = z.string().check(z.trim(), z.regex(/^\+?[0-9 ().-]{3,32}$/, 'must be a phone number such as +15550100000'));

/** PUT /api/students/{student_id}: phone numbers map callers to the student; name and aliases are what a caller may say. */
export const StudentInput = z.strictObject({
  phone_numbers: z.optional(z.array(Phone).check(z.maxLength(20))),
  /** Other names the student goes by; they identify a caller like the name does. Replaces the list. */
  aliases: z.optional(z.array(SafeText(200).check(z.refine((a) => a.trim().length > 0, 'must not be blank'))).check(z.maxLength(20))),
  email: z.optional(Email),
  name: z.optional(SafeText(200)),
});

export const Student = z.object({
  id: z.string(), email: z.nullable(z.string()), name: z.nullable(z.string()), aliases: z.array(z.string()), phone_numbers: z.array(z.string()),
});

export const StudentResponse = z.object({ student: Student });

export const Erased = z.object({
  success: z.literal(true),
  student_id: z.string(),
  events_deleted: z.int(),
  sessions_deleted: z.int(),
  /** Sessions shared with someone else: kept, with everything naming the student blanked (ADR 0014). */
  sessions_redacted: z.int(),
  analyses_deleted: z.int(),
  calls_deleted: z.int(),
  audit_entries_redacted: z.int(),
});
