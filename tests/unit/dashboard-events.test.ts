/**
 * How the dashboard reads one stored event (public/dashboard/events.js, a browser module with no
 * DOM at import): attempts, a practice page's and a tutor's graded tool call's (ADR 0030).
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain browser module, without types
import { categoryOf, describe as describeEvent } from '../../public/dashboard/events.js';

const ev = (event_type: string, event_data: Record<string, unknown>) => ({ event_type, event_data });

describe('attempt rows', () => {
  it("a practice page's attempt is a web event that says right or wrong, what about, and how long", () => {
    const e = ev('attempt', { correct: false, subject: 'Math', topic: 'Fractions', timeMs: 12_345 });
    expect(categoryOf(e)).toBe('web');
    expect(describeEvent(e)).toEqual({ label: 'Attempt', text: 'incorrect · Math · Fractions · 12.3 s' });
  });

  it("a tutor's graded tool call is filed with the tool calls and names the tool", () => {
    const e = ev('attempt', { correct: true, subject: 'Math', tool: 'record_attempt', tool_call_id: 'call_1', source: 'vapi' });
    expect(categoryOf(e)).toBe('tool');
    expect(describeEvent(e)).toEqual({ label: 'Attempt', text: 'correct · Math · by record_attempt' });
  });

  it('an attempt without a boolean `correct` says it was not graded', () => {
    expect(describeEvent(ev('attempt', { correct: 'yes' })).text).toBe('not graded');
    expect(categoryOf(ev('attempt', { tool: 7 }))).toBe('web');
  });
});

describe('helped marks', () => {
  it('read as a status line saying who helped, and what was done', () => {
    const e = ev('attention_helped', { by: 'instructor:ms_lee', note: 'missing API key' });
    expect(categoryOf(e)).toBe('status');
    expect(describeEvent(e)).toEqual({ label: 'Helped', text: 'by instructor:ms_lee · missing API key' });
    expect(describeEvent(ev('attention_help_undone', { by: 'admin' }))).toEqual({ label: 'Help mark undone', text: 'by admin' });
    expect(categoryOf(ev('attention_help_undone', { by: 'admin' }))).toBe('status');
  });
});
