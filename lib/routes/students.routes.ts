import { defineRoute } from '../http/route.js';
import { StudentPath } from '../schemas/params.js';
import { ProgressQuery, StudentProgress } from '../schemas/progress.js';
import { Erased, StudentInput, StudentResponse } from '../schemas/student.js';

const tag = 'students';

export const putStudentRoute = defineRoute({
  method: 'put', path: '/api/students/{student_id}', summary: 'Create or update a student (phone numbers map callers)', tag,
  auth: 'admin', action: 'change students', params: StudentPath, body: { schema: StudentInput }, ok: { 200: StudentResponse }, errors: [409],
});
export const deleteStudentRoute = defineRoute({
  method: 'delete', path: '/api/students/{student_id}', summary: 'Erase a student and everything of theirs (by id or email)', tag,
  auth: 'admin', action: 'delete students', params: StudentPath, ok: { 200: Erased }, errors: [404],
  description: 'GDPR erasure, case-insensitive: their sessions are deleted, sessions shared with others are redacted, audit entries naming them are blanked. The audit trail records it under a keyed hash (HMAC) of the id.',
});
export const getStudentRoute = defineRoute({
  method: 'get', path: '/api/students/{student_id}', summary: 'A student', tag, auth: 'reader', params: StudentPath, ok: { 200: StudentResponse }, errors: [404],
});

export const getProgressRoute = defineRoute({
  method: 'get', path: '/api/students/{student_id}/progress', summary: "A student's sessions over time: trends, topics, outstanding next steps", tag,
  auth: 'reader', params: StudentPath, query: ProgressQuery, ok: { 200: StudentProgress }, errors: [404],
  description: 'Every kind of session (voice calls, tool calls, workshop pages, explicit sessions), oldest first; trends over the last `last` (10) sessions. The student is named by id, or by the email of a student whose id is another (case-insensitive); `student.id` in the answer is the id.',
});

export const studentsRoutes = [putStudentRoute, deleteStudentRoute, getStudentRoute, getProgressRoute];
