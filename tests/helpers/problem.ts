import { expect } from 'vitest';
import * as z from 'zod/mini';
import { Problem } from '../../lib/schemas/responses.js';

/** The problem document every error carries, with the request id our error handler always adds. */
export const ProblemBody = z.extend(Problem, { requestId: Problem.shape.requestId.def.innerType });

/** Assert an RFC 9457 problem answer with this status, and return its body. */
export async function expectProblem(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  return ProblemBody.parse(await res.json());
}
