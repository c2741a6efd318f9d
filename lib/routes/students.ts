import { z } from 'zod';
import type { Family } from '../app.js';
import { parseBody, parseParam } from '../http/validate.js';
import { Email, SafeText } from '../schemas/common.js';
import { StudentId } from '../schemas/session.js';
import { getStudent, upsertStudent } from '../sessions/students.js';
import { adminOnly, ctxOf, reader } from './sessions/shared.js';

const Phone = z.string().trim().regex(/^\+?[0-9 ().-]{3,32}$/, 'must be a phone number such as +15550100000');

export const StudentInput = z.strictObject({
  phone_numbers: z.array(Phone).max(20).optional(),
  email: Email.optional(),
  name: SafeText(200).optional(),
});

/** Students (admin): who they are and which phone numbers call as them. */
export const studentsFamily: Family = (app) => {
  app.put('/api/students/:student_id', adminOnly('change students'), async (c) => {
    const id = parseParam(c, 'student_id', StudentId);
    const input = await parseBody(c, StudentInput);
    return c.json({ student: await upsertStudent(ctxOf(c), id, input) });
  });
  app.get('/api/students/:student_id', reader, async (c) => {
    const id = parseParam(c, 'student_id', StudentId);
    return c.json({ student: await getStudent(ctxOf(c), id) });
  });
};
