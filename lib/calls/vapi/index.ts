import { sanitizeJson } from '../../schemas/common.js';
import { type CallAdapter, TOOLS_DEADLINE_MS, type ToolResult } from '../types.js';
import { checkVapiHeaders, verifyVapi } from './auth.js';
import { parseVapi } from './parse.js';
import { forwardFunctionCall, forwardToolCalls, type ToolServer, withOnlyCalls } from './tools.js';


/**
 * Vapi: server messages (status, live transcript, tool calls, end-of-call report) authenticated by
 * secret, Bearer or HMAC. Tool calls are answered by the configured tool server, in Vapi's shape.
 */
export const vapiAdapter: CallAdapter = {
  name: 'vapi',
  checkHeaders: checkVapiHeaders,
  authenticate: ({ headers, rawBody, method, url }, config, now) => verifyVapi(headers, rawBody, config, now, { method, url }),
  parse: parseVapi,
  // Vapi reads `{}` from everything but tool calls, so a repeated message can be skipped.
  skipsRedeliveries: true,
  async answer(update, { rawBody, config, log }, answered) {
    // TOOL_SERVER_URL wins for tools; else the customer's own server (the tap's upstream) answers them.
    const up = config.vapi.upstream;
    const server: ToolServer | undefined =
      config.toolServer ?? (up ? { url: up.url, token: up.secret, timeoutMs: TOOLS_DEADLINE_MS, ...(up.secret ? { headers: { 'x-vapi-secret': up.secret } } : {}) } : undefined);
    if (update.kind === 'function-call') return { body: await forwardFunctionCall(server, rawBody, log) };
    // A replay (a redelivery, or a captured signed message inside the timestamp window, maybe with
    // new calls beside the old) is answered from what the tool server said the first time: a tool
    // call never runs twice. Only the calls without a stored result are sent to the tool server.
    const prior = update.calls.map((c) => answered?.get(c.id));
    const fresh = update.calls.filter((_, i) => prior[i] === undefined);
    const body = fresh.length === update.calls.length ? rawBody : withOnlyCalls(rawBody, new Set(fresh.map((c) => c.id)));
    const ran = fresh.length === 0 && update.calls.length > 0 ? [] : await forwardToolCalls(server, body, fresh, log);
    // Answer with the names as sent (the first answer did), unless the tool server named the
    // result itself; one stored result per id, so a repeated id gets its own name back.
    const firstName = new Map<string, string>();
    for (const c of update.calls) if (!firstName.has(c.id)) firstName.set(c.id, c.name);
    let next = 0;
    const results = update.calls.map((c, i) => {
      const r = prior[i];
      // forwardToolCalls answers every call it is given, in order.
      if (!r) return ran[next++] as ToolResult;
      // Stored text is sanitised (NULs dropped): compare with the first call's name as stored.
      return r.name === sanitizeJson(firstName.get(c.id)) ? { ...r, name: c.name } : r;
    });
    return { body: { results }, ...(ran.length ? { results: ran } : {}) };
  },
};
