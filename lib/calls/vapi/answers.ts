import { isJsonObject } from '../../schemas/common.js';

/**
 * What Sessionlog answers a message Vapi reads when it has no answer of the customer's server to
 * relay: none is configured (VAPI_UPSTREAM_URL), it did not answer in time or at all, or its 2xx
 * was not a JSON object (its error statuses are relayed as they are: a refusal is its to make). Each answer has the shape of
 * the Vapi server SDK's response type for that message
 * (VapiAI/server-sdk-typescript, src/api/types/ServerMessageResponse<Message>.ts): an answer missing
 * a field the type requires (a handoff's `destination`, an endpointing `timeoutSeconds`) is one Vapi
 * cannot read, and a field the type does not have (`error` on a knowledge-base answer) means nothing.
 */

/** JSON for Vapi, or a refusal: Vapi reads it as the server failing (a non-2xx problem document). */
export type Fallback = { body: Record<string, unknown> } | { refuse: string };

/**
 * The wait after the caller's last words before the assistant answers, for a custom endpointing
 * request (`call.endpointing.request`) that reaches a server with no endpointing model: Vapi's own
 * wait for speech it cannot tell is finished (TranscriptionEndpointingPlan.onNoPunctuationSeconds,
 * 1.5 s). Shorter, a student thinking aloud is answered over; Vapi cannot read an answer without one.
 */
export const ENDPOINTING_TIMEOUT_SECONDS = 1.5;

/**
 * The answer to `type` without one from the customer's server; `reason` goes where the type has a
 * field Vapi reads as why (added to the conversation, or spoken to the caller). `assistantId`
 * (VAPI_ASSISTANT_ID) takes an assistant-request's call.
 */
export function fallbackAnswer(type: string, reason: string, assistantId?: string): Fallback {
  switch (type) {
    // ServerMessageResponseAssistantRequest / ...TransferDestinationRequest: every field optional;
    // `error` is spoken to the caller instead of the call ending without a word. The default
    // assistant, when there is one, takes the call instead: a student's call must not fail because
    // the customer's routing server is down, slow or answered a page.
    case 'assistant-request':
      if (assistantId) return { body: { assistantId } };
      return { body: { error: reason } };
    case 'transfer-destination-request':
      return { body: { error: reason } };
    // ServerMessageResponseHandoffDestinationRequest: `destination` required (an object), `error`
    // optional. Vapi's handoff docs (fern/squads/handoff.mdx) decline a dynamic handoff with an empty
    // destination or an error, the error added to the conversation: both, so the answer is of the
    // type and the model can tell the caller why no one is taking over.
    case 'handoff-destination-request':
      return { body: { destination: {}, error: reason } };
    // ServerMessageResponseKnowledgeBaseRequest: `documents` and `message` optional, no `error`
    // (a `message` would be spoken instead of the model's answer): no documents, the model answers.
    case 'knowledge-base-request':
      return { body: {} };
    // ServerMessageResponseCallEndpointingRequest: `timeoutSeconds` required.
    case 'call.endpointing.request':
      return { body: { timeoutSeconds: ENDPOINTING_TIMEOUT_SECONDS } };
    // ServerMessageResponseVoiceRequest: the answer is raw PCM audio, not JSON: any JSON body would
    // be played as noise. A failure lets the assistant's voice fallbackPlan speak instead.
    case 'voice-request':
      return { refuse: reason };
    default:
      return { body: {} };
  }
}

/** The API schema's bounds for an endpointing `timeoutSeconds` (ServerMessageResponseCallEndpointingRequest). */
const ENDPOINTING_MAX_SECONDS = 15;


/**
 * The customer's server answered `type` with a JSON object (2xx): that answer made to fit the SDK
 * type where it lacks a field the type requires, else undefined (it is then relayed byte for byte).
 */
export function completed(type: string, answer: Record<string, unknown>): Record<string, unknown> | undefined {
  // Vapi's handoff docs decline with `{"error"}` alone; the type requires `destination`, and an
  // empty one declines too: the answer keeps its meaning (and its error) in the type's shape.
  if (type === 'handoff-destination-request' && !isJsonObject(answer.destination)) return { ...answer, destination: {} };
  if (type === 'call.endpointing.request') {
    const t = answer.timeoutSeconds;
    if (typeof t !== 'number' || !Number.isFinite(t)) return { timeoutSeconds: ENDPOINTING_TIMEOUT_SECONDS };
    if (t < 0 || t > ENDPOINTING_MAX_SECONDS) return { ...answer, timeoutSeconds: Math.min(Math.max(t, 0), ENDPOINTING_MAX_SECONDS) };
  }
  return undefined;
}
