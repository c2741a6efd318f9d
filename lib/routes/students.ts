import type { Family } from '../http/env.js';
import { register } from '../http/register.js';
import { parseBody, parseParam, parseQuery } from '../http/validate.js';
import { studentProgress } from '../progress/build.js';
import { ProgressQuery } from '../schemas/progress.js';
import { StudentId } from '../schemas/session.js';
import { StudentInput } from '../schemas/student.js';
import { eraseStudent } from '../lifecycle/erase.js';
import { getStudent, upsertStudent } from '../sessions/students.js';
import { sha256Hex } from '../util/stable-uuid.js';
import { ctxOf } from './sessions/shared.js';
import { deleteStudentRoute, getProgressRoute, getStudentRoute, putStudentRoute } from './students.routes.js';

/** Students: who they are, which phone numbers call as them (admin), and their progress (reader). */
export const studentsFamily: Family = (app) => {
  register(app, putStudentRoute, async (c) => {
    const id = parseParam(c, 'student_id', StudentId);
    const input = await parseBody(c, StudentInput);
    return c.json({ student: await upsertStudent(ctxOf(c), id, input) });
  });
  /** GDPR erasure: by student id or email. The audit trail records it under a one-way hash. */
  register(app, deleteStudentRoute, async (c) => {
    const who = parseParam(c, 'student_id', StudentId);
    c.set('auditPath', `/api/students/sha256:${(await sha256Hex(who)).slice(0, 16)}`);
    return c.json({ success: true, ...(await eraseStudent(ctxOf(c), who)) });
  });
  register(app, getStudentRoute, async (c) => {
    const id = parseParam(c, 'student_id', StudentId);
    return c.json({ student: await getStudent(ctxOf(c), id) });
  });
  register(app, getProgressRoute, async (c) => {
    const id = parseParam(c, 'student_id', StudentId);
    const q = parseQuery(c, ProgressQuery);
    return c.json(await studentProgress(ctxOf(c), id, { last: q.last, recent: q.recent }));
  });
};
