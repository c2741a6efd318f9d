import { z } from 'zod';
import type { Family } from '../http/env.js';
import { parseBody, parseParam } from '../http/validate.js';
import { Email, SafeText } from '../schemas/common.js';
import { StudentId } from '../schemas/session.js';
import { eraseStudent } from '../lifecycle/erase.js';
import { getStudent, upsertStudent } from '../sessions/students.js';
import { sha256Hex } from '../util/stable-uuid.js';
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
  /** GDPR erasure: by student id or email. The audit trail records it under a one-way hash. */
  app.delete('/api/students/:student_id', adminOnly('delete students'), async (c) => {
    const who = parseParam(c, 'student_id', StudentId);
    c.set('auditPath', `/api/students/sha256:${(await sha256Hex(who)).slice(0, 16)}`);
    return c.json({ success: true, ...(await eraseStudent(ctxOf(c), who)) });
  });
  app.get('/api/students/:student_id', reader, async (c) => {
    const id = parseParam(c, 'student_id', StudentId);
    return c.json({ student: await getStudent(ctxOf(c), id) });
  });
};
