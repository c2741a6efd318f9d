import { z } from 'zod';
import { Email, SafeText } from './common.js';

const Phone = z.string().trim().regex(/^\+?[0-9 ().-]{3,32}$/, 'must be a phone number such as +15550100000');

/** PUT /api/students/{student_id}: phone numbers map callers to the student; name and aliases are what a caller may say. */
export const StudentInput = z.strictObject({
  phone_numbers: z.array(Phone).max(20).optional(),
  /** Other names the student goes by; they identify a caller like the name does. Replaces the list. */
  aliases: z.array(SafeText(200).refine((a) => a.trim().length > 0, 'must not be blank')).max(20).optional(),
  email: Email.optional(),
  name: SafeText(200).optional(),
});

export const Student = z.object({
  id: z.string(), email: z.string().nullable(), name: z.string().nullable(), aliases: z.array(z.string()), phone_numbers: z.array(z.string()),
});

export const StudentResponse = z.object({ student: Student });

export const Erased = z.object({
  success: z.literal(true),
  student_id: z.string(),
  events_deleted: z.number().int(),
  sessions_deleted: z.number().int(),
  /** Sessions shared with someone else: kept, with everything naming the student blanked (ADR 0014). */
  sessions_redacted: z.number().int(),
  analyses_deleted: z.number().int(),
  calls_deleted: z.number().int(),
  audit_entries_redacted: z.number().int(),
});
