import type { Family } from '../http/env.js';
import { AnalysisUnavailable, analyseOnRequest, unavailableReason } from '../analysis/run.js';
import { listAnalyses } from '../analysis/store.js';
import { ApiError } from '../errors.js';
import { register } from '../http/register.js';
import { parseOptionalBody, parseQuery } from '../http/validate.js';
import { AnalysisUsage, AnalysisUsageQuery } from '../schemas/analysis-usage.js';
import { nextUtcDay, usageByDay, utcDay } from '../analysis/budget.js';
import { AnalysisRequest } from '../analysis/schema.js';
import { getDocument } from '../sessions/read.js';
import { getAnalysesRoute, getAnalysisUsageRoute, postAnalysisRoute } from './analysis.routes.js';
import { ctxOf, sessionIdParam } from './sessions/shared.js';

/** Session analysis: run one on request, list a session's analyses. */
export const analysisFamily: Family = (app, deps) => {
  register(app, postAnalysisRoute, async (c) => {
    const id = sessionIdParam(c);
    // An empty body means the defaults (session_summary, not forced).
    const input = await parseOptionalBody(c, AnalysisRequest);
    try {
      const { analysis, reused } = await analyseOnRequest(ctxOf(c), deps.config.analysis, id, input.template, input.force);
      return c.json({ session_id: id, reused, analysis });
    } catch (err) {
      if (err instanceof AnalysisUnavailable) throw new ApiError('UNAVAILABLE', err.message);
      throw err;
    }
  });

  register(app, getAnalysisUsageRoute, async (c) => {
    const { days } = parseQuery(c, AnalysisUsageQuery);
    const now = deps.now();
    const today = utcDay(now);
    const list = await usageByDay(ctxOf(c), today, days);
    const budget = deps.config.analysis.dailyTokenBudget;
    const t = list[0];
    const remaining = budget === null || !t ? budget : Math.max(0, budget - t.total_tokens - t.reserved_tokens);
    return c.json(AnalysisUsage.parse({ daily_token_budget: budget, today, remaining_today: remaining, resets_at: nextUtcDay(now).toISOString(), days: list }));
  });

  register(app, getAnalysesRoute, async (c) => {
    const id = sessionIdParam(c);
    const ctx = ctxOf(c);
    await getDocument(ctx, id); // 404 for an unknown session
    const analyses = await listAnalyses(ctx, id);
    // Whether POST would run one now, and why not: the dashboard disables its button with the reason.
    const reason = unavailableReason(deps.config.analysis, 'on_request');
    return c.json({ session_id: id, enabled: reason === null, reason, count: analyses.length, analyses });
  });
};
