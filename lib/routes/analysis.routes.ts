import { AnalysisList, AnalysisRequest, AnalysisRun } from '../analysis/schema.js';
import { defineRoute } from '../http/route.js';
import { AnalysisUsage, AnalysisUsageQuery } from '../schemas/analysis-usage.js';
import { SessionPath } from '../schemas/params.js';

// Instructors may run analyses (the dashboard's "run analysis"): it reads the session and only
// adds an analysis; it deletes and reconfigures nothing. Its action is named for the 403 and the
// audit trail, which would otherwise say "read" of a POST that runs a model.
export const postAnalysisRoute = defineRoute({
  method: 'post', path: '/api/sessions/{id}/analysis', summary: 'Run an analysis now', tag: 'analysis', auth: 'reader', action: 'run analyses',
  params: SessionPath, body: { schema: AnalysisRequest, required: false }, ok: { 200: AnalysisRun }, errors: [404, 409, 503],
  description: 'An empty body means the defaults (session_summary, not forced).',
});
export const getAnalysesRoute = defineRoute({
  method: 'get', path: '/api/sessions/{id}/analysis', summary: "The session's analyses", tag: 'analysis', auth: 'reader',
  params: SessionPath, ok: { 200: AnalysisList }, errors: [404],
});

export const getAnalysisUsageRoute = defineRoute({
  method: 'get', path: '/api/analysis/usage', summary: 'Analysis token usage per UTC day and what remains of today\'s budget', tag: 'analysis', auth: 'reader',
  query: AnalysisUsageQuery, ok: { 200: AnalysisUsage },
  description: 'ANALYSIS_DAILY_TOKEN_BUDGET caps tokens per UTC day; past it analyses are deferred to the next day.',
});

export const analysisRoutes = [getAnalysisUsageRoute, postAnalysisRoute, getAnalysesRoute];
