import type { CallAdapter } from '../types.js';
import { verifyVapi } from './auth.js';
import { parseVapi } from './parse.js';
import { forwardFunctionCall, forwardToolCalls } from './tools.js';

/**
 * Vapi: server messages (status, live transcript, tool calls, end-of-call report) authenticated by
 * secret, Bearer or HMAC. Tool calls are answered by the configured tool server, in Vapi's shape.
 */
export const vapiAdapter: CallAdapter = {
  name: 'vapi',
  authenticate: ({ headers, rawBody }, config, now) => verifyVapi(headers, rawBody, config, now),
  parse: parseVapi,
  // Vapi reads `{}` from everything but tool calls, so a repeated message can be skipped.
  skipsRedeliveries: true,
  async answer(update, { rawBody, config, log }) {
    if (update.kind === 'function-call') return { body: await forwardFunctionCall(config.toolServer, rawBody, log) };
    const results = await forwardToolCalls(config.toolServer, rawBody, update.calls, log);
    return { body: { results }, results };
  },
};
