import type { Trend } from '../schemas/progress.js';

/**
 * Least-squares slope of y over x, or null under two points. x is the session's position in the
 * window, so the slope reads "change per session" whatever the calendar gaps between sessions.
 */
export function leastSquaresSlope(points: ReadonlyArray<{ x: number; y: number }>): number | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxx === 0 ? null : sxy / sxx;
}

/** Round to 6 significant digits: enough for a chart, and stable in JSON (no 0.30000000000000004). */
const round6 = (v: number) => (v === 0 ? 0 : Number(v.toPrecision(6)));

/**
 * A metric over sessions (oldest first). `better` says which way is good for the student; flat is
 * a slope smaller than a millionth of the values' scale (floating-point noise on equal values).
 */
export function trendOf(
  sessions: ReadonlyArray<{ session_id: string; start_time: string }>,
  value: (i: number) => number | null,
  better: 'up' | 'down' | null,
): Trend {
  const values = sessions.map((s, i) => ({ session_id: s.session_id, start_time: s.start_time, value: value(i) }));
  const points = values.flatMap((v, x) => (v.value === null ? [] : [{ x, y: v.value }]));
  const raw = leastSquaresSlope(points);
  const scale = Math.max(1e-9, ...points.map((p) => Math.abs(p.y)));
  const slope = raw === null ? null : Math.abs(raw) < scale * 1e-6 ? 0 : round6(raw);
  const direction = slope === null ? null : slope > 0 ? 'up' : slope < 0 ? 'down' : 'flat';
  return {
    values,
    points: points.length,
    slope,
    direction,
    improving: direction === null || better === null || direction === 'flat' ? null : direction === better,
  };
}
