import { z } from 'zod';
import { Email, SafeText } from './common.js';

const Phone = z.string().trim().regex(/^\+?[0-9 ().-]{3,32}$/, 'must be a phone number such as +15550100000');

/** PUT /api/students/{student_id}: phone numbers map callers to the student. */
export const StudentInput = z.strictObject({
  phone_numbers: z.array(Phone).max(20).optional(),
  email: Email.optional(),
  name: SafeText(200).optional(),
});
