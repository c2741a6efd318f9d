/** Shared knobs of the property-based suites (tests/unit/fuzz-*.test.ts). */

/** FUZZ_SCALE=10 for a longer hunt. */
export const SCALE = Number(process.env.FUZZ_SCALE ?? 1);

/** fast-check parameters: the run count scaled, and FC_SEED/FC_PATH to replay a reported failure. */
export const runs = (numRuns: number) => ({
  numRuns: Math.ceil(numRuns * SCALE),
  ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}),
});

/** Count the requests an app serves, for the report FUZZ_STATS=1 prints. */
export function counted<A extends { request: (...args: never[]) => unknown }>(a: A): A & { requests: () => number } {
  let n = 0;
  const request = a.request.bind(a) as (...args: unknown[]) => unknown;
  a.request = ((...args: unknown[]) => {
    n++;
    return request(...args);
  }) as A['request'];
  return Object.assign(a, { requests: () => n });
}
