import type { Family } from '../../http/env.js';
import { register } from '../../http/register.js';
import { getActive, getList, getOne, getStats, getSummary, getTimeline, getTranscript, getWaiting } from './read.js';
import * as R from './routes.js';
import { getStream, postStreamToken } from './stream.js';
import { postAssign, postClose, postEnd, postInteraction, postJoin, postPause, postPhase, postResume, postSession, postTranscript, postWriteToken, putSummary } from './write.js';

/**
 * Sessions: automatic (interactions) and explicit (participants, transcript, phases) and the
 * instructor reads. Fixed paths are registered before `/:id`. (Maintenance moved to the cron
 * family and the audit trail to the audit family: each has its own Vercel function.)
 */
export const sessionsFamily: Family = (app) => {
  register(app, R.postInteractionRoute, postInteraction);
  register(app, R.postCloseRoute, postClose);
  register(app, R.getActiveRoute, getActive);
  register(app, R.getWaitingRoute, getWaiting);
  register(app, R.postSessionRoute, postSession);
  register(app, R.getSessionsRoute, getList);
  register(app, R.getStatsRoute, getStats);

  register(app, R.getSessionRoute, getOne);
  register(app, R.getTranscriptRoute, getTranscript);
  register(app, R.getTimelineRoute, getTimeline);
  register(app, R.getSummaryRoute, getSummary);
  register(app, R.postJoinRoute, postJoin);
  register(app, R.postTranscriptRoute, postTranscript);
  register(app, R.postPhaseRoute, postPhase);
  register(app, R.putSummaryRoute, putSummary);
  register(app, R.postEndRoute, postEnd);
  register(app, R.postPauseRoute, postPause);
  register(app, R.postResumeRoute, postResume);
  register(app, R.postAssignRoute, postAssign);
  register(app, R.getStreamRoute, getStream);
  register(app, R.postStreamTokenRoute, postStreamToken);
  register(app, R.postWriteTokenRoute, postWriteToken);
};
