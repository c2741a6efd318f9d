import * as z from '../util/zod.js';
import { SessionId, StudentId } from './ids.js';

/** Path parameters, validated by hono before the handler through the app's validation hook. */
export const SessionPath = z.object({ id: SessionId });
export const StudentPath = z.object({ student_id: StudentId });
