/**
 * Three tutoring calls, delivered the way Vapi delivers them to a server URL: a `status-update`
 * when talking starts, then the `end-of-call-report` with the artifact (messages with the tool calls
 * and their results, transcript, recording), costs and Vapi's analysis. Shapes follow Vapi's
 * published server-message schema (see tests/fixtures/vapi/calls.ts, built from real captures).
 */
import { demoUuid } from './ids.js';

export interface DemoStudent {
  id: string;
  name: string;
  email: string;
  aliases: string[];
  phone_numbers?: string[];
}

type Turn = { role: 'bot' | 'user'; text: string; at: number };
type Tool = { name: string; args: Record<string, unknown>; result: string; at: number };

interface CallPlan {
  student: DemoStudent;
  /** Minutes before the anchor when the call started. */
  ago: number;
  phone?: string;
  subject: string;
  turns: Turn[];
  tools: Tool[];
  summary: string;
  success: string;
  structured: Record<string, unknown>;
}

/**
 * A fictional number (555-01xx is reserved for fiction) per tag: a phone number belongs to one
 * student, so two tags must not share one.
 */
const demoPhone = (tag: string) => `+155501${String(Number.parseInt(demoUuid(tag, 'phone').slice(0, 8), 16) % 100_000).padStart(5, '0')}`;

export function demoStudents(tag: string): DemoStudent[] {
  return [
    { id: `${tag}_emma_smith`, name: 'Emma Smith', email: `emma.smith@${tag}.example.com`, aliases: ['Em'] },
    { id: `${tag}_liam_chen`, name: 'Liam Chen', email: `liam.chen@${tag}.example.com`, aliases: [], phone_numbers: [demoPhone(tag)] },
    { id: `${tag}_sofia_garcia`, name: 'Sofia Garcia', email: `sofia.garcia@${tag}.example.com`, aliases: ['Sofi'] },
  ];
}

function plans(tag: string): CallPlan[] {
  const [emma, liam, sofia] = demoStudents(tag) as [DemoStudent, DemoStudent, DemoStudent];
  return [
    {
      student: emma, ago: 300, subject: 'fractions',
      turns: [
        { role: 'bot', text: 'Hi Emma! Ready to keep going with fractions?', at: 1.2 },
        { role: 'user', text: 'Yes, can I get a harder one this time?', at: 6.8 },
        { role: 'bot', text: 'Sure. What is one half plus one third?', at: 33.5 },
        { role: 'user', text: 'Is it two fifths?', at: 48.1 },
        { role: 'bot', text: 'Close, but we need a common denominator first. What do two and three both go into?', at: 52.9 },
        { role: 'user', text: 'Six! So three sixths plus two sixths is five sixths.', at: 79.4 },
        { role: 'bot', text: 'Exactly right, five sixths. Great work today!', at: 84.0 },
        { role: 'user', text: 'Thanks, bye!', at: 91.0 },
      ],
      tools: [
        { name: 'get_student_context', args: { studentId: emma.id }, result: '{"grade":5,"topic":"fractions","mastery":"developing"}', at: 2.0 },
        { name: 'get_next_problem', args: { topic: 'fractions', difficulty: 2 }, result: '{"problem":"1/2 + 1/3","answer":"5/6"}', at: 31.0 },
        { name: 'record_attempt', args: { problem: '1/2 + 1/3', answer: '2/5', correct: false }, result: '{"saved":true}', at: 49.0 },
        { name: 'record_attempt', args: { problem: '1/2 + 1/3', answer: '5/6', correct: true }, result: '{"saved":true}', at: 80.0 },
      ],
      summary: 'Emma added fractions with unlike denominators; first answer 2/5, corrected to 5/6 after a hint about common denominators.',
      success: 'true', structured: { topic: 'fractions', problems_attempted: 1, mastery: 'developing' },
    },
    {
      student: liam, ago: 180, phone: demoPhone(tag), subject: 'photosynthesis',
      turns: [
        { role: 'bot', text: 'Hello, this is your science tutor. Who am I speaking with?', at: 1.0 },
        { role: 'user', text: "Hi, it's Liam. I have a quiz on photosynthesis tomorrow.", at: 5.5 },
        { role: 'bot', text: 'Great, Liam. What does a plant need for photosynthesis?', at: 12.0 },
        { role: 'user', text: 'Sunlight, water and carbon dioxide.', at: 20.3 },
        { role: 'bot', text: 'Perfect. And what does it make?', at: 24.1 },
        { role: 'user', text: 'Oxygen and... sugar? Glucose!', at: 33.7 },
        { role: 'bot', text: 'Yes, glucose and oxygen. You are ready for that quiz.', at: 38.2 },
      ],
      tools: [
        { name: 'get_quiz_questions', args: { topic: 'photosynthesis', count: 2 }, result: '{"questions":["inputs","outputs"]}', at: 10.5 },
        { name: 'record_attempt', args: { problem: 'inputs of photosynthesis', answer: 'sunlight, water, carbon dioxide', correct: true }, result: '{"saved":true}', at: 22.0 },
        { name: 'record_attempt', args: { problem: 'outputs of photosynthesis', answer: 'oxygen and glucose', correct: true }, result: '{"saved":true}', at: 35.5 },
      ],
      summary: 'Liam reviewed the inputs and outputs of photosynthesis before a quiz and answered both questions correctly.',
      success: 'true', structured: { topic: 'photosynthesis', problems_attempted: 2, mastery: 'secure' },
    },
    {
      student: sofia, ago: 90, subject: 'linear equations',
      turns: [
        { role: 'bot', text: 'Hi Sofia, shall we practise solving equations?', at: 1.4 },
        { role: 'user', text: 'Okay. I always get confused when there is a minus.', at: 7.9 },
        { role: 'bot', text: 'Let us try: 3x minus 4 equals 11. What do you do first?', at: 20.6 },
        { role: 'user', text: 'Add four to both sides, so 3x is 15, and x is 5.', at: 41.2 },
        { role: 'bot', text: 'Spot on. I tried to save your progress but the gradebook did not answer; I will note it for your teacher.', at: 47.0 },
        { role: 'user', text: 'Okay, thank you!', at: 55.8 },
      ],
      tools: [
        { name: 'get_next_problem', args: { topic: 'linear equations', difficulty: 1 }, result: '{"problem":"3x - 4 = 11","answer":"5"}', at: 19.0 },
        { name: 'record_attempt', args: { problem: '3x - 4 = 11', answer: '5', correct: true }, result: '{"saved":true}', at: 43.0 },
        { name: 'save_progress', args: { studentId: sofia.id, skill: 'one-step equations' }, result: 'Error: gradebook timed out after 15000 ms', at: 44.5 },
      ],
      summary: 'Sofia solved 3x - 4 = 11 correctly. Saving progress to the gradebook failed (timeout).',
      success: 'true', structured: { topic: 'linear equations', problems_attempted: 1, mastery: 'developing' },
    },
  ];
}

/** The Vapi server messages of each call, in delivery order. */
export function demoCalls(tag: string, anchor: Date): Array<{ callId: string; student: DemoStudent; messages: unknown[] }> {
  return plans(tag).map((p, n) => {
    const id = demoUuid(tag, 'call', n);
    const start = anchor.getTime() - p.ago * 60_000;
    const ms = (at: number) => start + Math.round(at * 1000);
    const endAt = (p.turns.at(-1)?.at ?? 60) + 4;
    const assistant = { id: demoUuid(tag, 'assistant'), name: 'Sessionlog demo tutor', model: { provider: 'openai', model: 'gpt-4o' }, voice: { provider: '11labs', voiceId: 'sarah' } };
    const customer = p.phone ? { number: p.phone } : undefined;
    const call = {
      id,
      orgId: demoUuid(tag, 'org'),
      createdAt: new Date(start - 1800).toISOString(),
      type: p.phone ? 'inboundPhoneCall' : 'webCall',
      status: 'queued',
      assistantId: assistant.id,
      // Web calls carry the student's id as the page starting them passes it; the phone call is
      // matched by the caller's number (PUT /api/students phone_numbers).
      ...(p.phone ? { customer, phoneCallProvider: 'twilio' } : { assistantOverrides: { metadata: { studentId: p.student.id } } }),
    };
    const msg = (type: string, at: number, fields: Record<string, unknown>) => ({ message: { timestamp: ms(at), type, ...fields, call, assistant, ...(customer ? { customer } : {}) } });
    const spoken = p.turns.map((t) => ({ role: t.role, message: t.text, time: ms(t.at), endTime: ms(t.at) + t.text.length * 55, secondsFromStart: t.at }));
    const tools = p.tools.flatMap((u, k) => {
      const toolCallId = `call_${demoUuid(tag, 'tool', n, k).replaceAll('-', '').slice(0, 24)}`;
      return [
        { role: 'tool_calls', message: '', time: ms(u.at), secondsFromStart: u.at, toolCalls: [{ id: toolCallId, type: 'function', function: { name: u.name, arguments: JSON.stringify(u.args) } }] },
        { role: 'tool_call_result', time: ms(u.at) + 420, secondsFromStart: u.at + 0.42, name: u.name, result: u.result, toolCallId },
      ];
    });
    const messages = [...spoken, ...tools].sort((a, b) => a.time - b.time);
    const transcript = p.turns.map((t) => `${t.role === 'bot' ? 'AI' : 'User'}: ${t.text}`).join('\n');
    const rec = `https://storage.vapi.ai/${id}-${start}`;
    const cost = Number((0.0009 * endAt + 0.02).toFixed(4));
    return {
      callId: id,
      student: p.student,
      messages: [
        msg('status-update', 0.5, { status: 'in-progress' }),
        msg('end-of-call-report', endAt + 1.5, {
          endedReason: p.phone ? 'customer-ended-call' : 'assistant-ended-call',
          startedAt: new Date(start).toISOString(),
          endedAt: new Date(ms(endAt)).toISOString(),
          cost,
          costBreakdown: { transport: 0, stt: cost * 0.16, llm: cost * 0.34, tts: cost * 0.22, vapi: cost * 0.28, total: cost },
          durationMs: Math.round(endAt * 1000),
          durationSeconds: endAt,
          summary: p.summary,
          analysis: { summary: p.summary, structuredData: p.structured, successEvaluation: p.success },
          artifact: { messages, transcript, recording: { stereoUrl: `${rec}-stereo.wav`, mono: { combinedUrl: `${rec}-mono.wav` } } },
        }),
      ],
    };
  });
}
