/**
 * The demo's two-participant session (the session-management design's flow). It is created first
 * and carries the demo's anchor time in its metadata: a later run reads the anchor back, so every
 * derived time — and so every derived event id — is the same as the first run's.
 */
import type { Client } from '../client.js';
import { CliError, EXIT } from '../errors.js';

interface Doc {
  session_id: string;
  status: string;
  interaction_count: number;
  metadata: Record<string, unknown>;
}

const pairId = (tag: string) => `${tag}_study_pair`;

/** The session's document, or undefined when there is no such session. */
export async function readSession(client: Client, id: string): Promise<Doc | undefined> {
  try {
    return await client.json<Doc>('GET', `/api/sessions/${id}`);
  } catch (err) {
    if (err instanceof CliError && err.exitCode === EXIT.API && (err.detail as { status?: number } | undefined)?.status === 404) return undefined;
    throw err;
  }
}

/** The anchor of an earlier run, or now (and the session is created to keep it). */
export async function startPair(client: Client, tag: string): Promise<{ anchor: Date; existed: boolean }> {
  const sessionId = pairId(tag);
  const existing = await readSession(client, sessionId);
  const saved = existing?.metadata.demo_anchor;
  if (typeof saved === 'string' && !Number.isNaN(Date.parse(saved))) return { anchor: new Date(saved), existed: true };
  if (existing) throw new CliError(EXIT.API, `${sessionId} exists but is not a demo session (no demo_anchor): use another --tag`);
  const anchor = new Date(Math.floor(Date.now() / 1000) * 1000);
  await client.json('POST', '/api/sessions', {
    body: {
      participant: `${tag}_alice`,
      session_id: sessionId,
      platform: 'superinterface',
      subject: 'Physics',
      topic: 'Vectors',
      agent: { name: 'Study buddy', model: 'gpt-4o' },
      metadata: { demo_anchor: anchor.toISOString(), demo_tag: tag },
    },
  });
  return { anchor, existed: false };
}

export async function finishPair(client: Client, tag: string): Promise<{ sessionId: string; ran: boolean; status: string }> {
  const sessionId = pairId(tag);
  const existing = await readSession(client, sessionId);
  // Only a session still waiting for its second participant runs the flow: once joined, a rerun
  // would append the transcript again (transcript lines carry no ids to de-duplicate on).
  if (existing?.status !== 'waiting') return { sessionId, ran: false, status: existing?.status ?? 'missing' };
  const path = `/api/sessions/${sessionId}`;
  const lines = async (entries: Array<[string, string]>) =>
    client.json('POST', `${path}/transcript`, { body: { entries: entries.map(([speaker, text]) => ({ speaker, text })) } });
  await client.json('POST', `${path}/join`, { body: { participant: `${tag}_bob` } });
  await client.json('POST', `${path}/phase`, { body: { phase: 'intro' } });
  await lines([
    ['agent', 'Welcome Alice and Bob! Today: adding vectors. Alice, what is a vector?'],
    ['A', 'Something with a size and a direction, like a velocity.'],
    ['B', 'So a speed is not a vector but a velocity is?'],
  ]);
  await client.json('POST', `${path}/phase`, { body: { phase: 'deep_dive' } });
  await lines([
    ['agent', 'Right. Bob, add (3, 4) and (1, -2).'],
    ['B', 'Add the parts: (4, 2).'],
    ['agent', 'And its length, Alice?'],
    ['A', 'Square root of 16 plus 4, so about 4.47.'],
  ]);
  await client.json('POST', `${path}/phase`, { body: { phase: 'wrap_up' } });
  await lines([['agent', 'Great teamwork. Next time: the dot product.']]);
  await client.json('PUT', `${path}/summary`, {
    body: { summary: 'Alice and Bob defined vectors vs scalars, added (3,4)+(1,-2)=(4,2) and found its length ≈ 4.47. Next: dot product.' },
  });
  const ended = await client.json<{ session: { status: string } }>('POST', `${path}/end`);
  return { sessionId, ran: true, status: ended.session.status };
}
