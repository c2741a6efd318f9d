import type { Context } from 'hono';
import type { AppEnv, Family } from '../../http/env.js';
import { evaluateCohort } from '../../alerts/evaluate.js';
import { retryFailed } from '../../analysis/run.js';
import { describeError } from '../../deps.js';
import { defer } from '../../http/defer.js';
import { applyRetention } from '../../lifecycle/retention.js';
import { sweep } from '../../sessions/sweep.js';
import { onSessionComplete } from '../analysis.js';
import { getActive, getAudit, getList, getOne, getStats, getSummary, getTimeline, getTranscript, getWaiting } from './read.js';
import { adminOnly, cron, ctxOf, reader, writer } from './shared.js';
import { postAssign, postClose, postEnd, postInteraction, postJoin, postPhase, postSession, postTranscript, putSummary } from './write.js';

/**
 * Sessions: automatic (interactions) and explicit (participants, transcript, phases), the
 * instructor reads, and the idle sweep. Fixed paths are registered before `/:id`.
 */
export const sessionsFamily: Family = (app, deps) => {
  const read = reader;
  const write = writer;

  app.post('/api/sessions/interactions', write, postInteraction);
  app.post('/api/sessions/close', write, postClose);
  app.get('/api/sessions/active', read, getActive);
  app.get('/api/sessions/waiting', write, getWaiting);
  app.post('/api/sessions', write, postSession);
  app.get('/api/sessions', read, getList);
  app.get('/api/stats', read, getStats);

  app.get('/api/sessions/:id', read, getOne);
  app.get('/api/sessions/:id/transcript', read, getTranscript);
  app.get('/api/sessions/:id/events', read, getTimeline);
  app.get('/api/sessions/:id/summary', read, getSummary);
  app.post('/api/sessions/:id/join', write, postJoin);
  app.post('/api/sessions/:id/transcript', write, postTranscript);
  app.post('/api/sessions/:id/phase', write, postPhase);
  app.put('/api/sessions/:id/summary', write, putSummary);
  app.post('/api/sessions/:id/end', write, postEnd);
  app.post('/api/sessions/:id/assign', adminOnly('assign sessions'), postAssign);

  // Vercel cron sends GET; operators may POST.
  const runSweep = cron;
  const handler = async (c: Context<AppEnv>) => {
    const ctx = ctxOf(c);
    const result = await sweep(ctx);
    // Analysis of the sessions this run ended, and retries of failed analyses, after the response.
    const work = Promise.allSettled([
      ...result.ended_ids.map((id) => onSessionComplete(deps, id)),
      retryFailed(ctx, deps.config.analysis),
      evaluateCohort(deps), // stuck students, and alert webhooks that failed before
    ]).then((outcomes) => {
      for (const o of outcomes) if (o.status === 'rejected') deps.log.error('sweep analysis failed', { error: describeError(o.reason) });
    });
    defer(c, work);
    return c.json(result);
  };
  app.get('/api/cron/sweep', runSweep, handler);
  app.post('/api/cron/sweep', runSweep, handler);

  // Daily: delete what is older than RETENTION_DAYS, in bounded batches (call again while `more`).
  const retention = async (c: Context<AppEnv>) => c.json(await applyRetention(deps.sql, deps.now(), deps.config.retentionDays));
  app.get('/api/cron/retention', cron, retention);
  app.post('/api/cron/retention', cron, retention);

  app.get('/api/audit', adminOnly('read the audit trail'), getAudit);
};
