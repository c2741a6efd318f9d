import type { Family } from '../http/env.js';
import { register } from '../http/register.js';
import { parseBody, parseParam, parseQuery } from '../http/validate.js';
import { studentProgress } from '../progress/build.js';
import { ProgressQuery } from '../schemas/progress.js';
import { StudentId } from '../schemas/ids.js';
import { StudentInput } from '../schemas/student.js';
import { eraseStudent } from '../lifecycle/erase.js';
import { getStudent, upsertStudent } from '../sessions/students.js';
import { erasureHash } from '../lifecycle/erasure-hash.js';
import { ctxOf } from './sessions/shared.js';
import { deleteStudentRoute, getProgressRoute, getStudentRoute, putStudentRoute } from './students.routes.js';

/** Students: who they are, which phone numbers call as them (admin), and their progress (reader). */
export const studentsFamily: Family = (app) => {
  register(app, putStudentRoute, async (c) => {
    const id = parseParam(c, 'student_id', StudentId);
    const input = await parseBody(c, StudentInput);
    return c.json({ student: await upsertStudent(ctxOf(c), id, input) });
  });
  /**
   * GDPR erasure: by student id or email. The audit trail records it under a keyed hash (never the
   * id): of what was asked for until the student is found, then of their id.
   */
  register(app, deleteStudentRoute, async (c) => {
    const who = parseParam(c, 'student_id', StudentId);
    // Admin-only route: the admin token is configured whenever this handler runs.
    const key = c.get('deps').config.adminToken ?? '';
    c.set('auditPath', `/api/students/${await erasureHash(key, who)}`);
    const erased = await eraseStudent(ctxOf(c), who);
    c.set('auditPath', `/api/students/${await erasureHash(key, erased.student_id)}`);
    return c.json({ success: true, ...erased });
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
