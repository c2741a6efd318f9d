/**
 * Shipped prompt templates. Instructors override them in session.config.yaml (or .json) under
 * `analysis.prompts`. Placeholders: {{student}}, {{platform}}, {{subject}}, {{topic}},
 * {{duration}}, {{subjects}}, {{interactions}}, {{errors}}, {{transcript}}, {{summary}},
 * {{previous_analyses}}, {{progress}}.
 */
export const PLACEHOLDERS = [
  'student',
  'platform',
  'subject',
  'topic',
  'duration',
  'subjects',
  'interactions',
  'errors',
  'transcript',
  'summary',
  'previous_analyses',
  'progress',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export const TEMPLATE_NAMES = ['session_summary', 'progress_update', 'learning_insights'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

const CONTEXT = `Student: {{student}}
Platform: {{platform}}
Subject / topic: {{subject}} / {{topic}}
Duration: {{duration}}
Subjects the tutor looked up: {{subjects}}

The student's progress before this session (build the next steps on it: follow up the outstanding ones,
bring back topics left behind, say when a trend changes):
{{progress}}

Tool calls made for the student (what the tutor fetched or did):
{{interactions}}

Errors the student hit in the workshop pages:
{{errors}}

Notes written during the session:
{{summary}}

Transcript:
{{transcript}}`;

export const DEFAULT_TEMPLATES: Record<TemplateName, string> = {
  session_summary: `Summarise this tutoring session for the student's instructor. Say what was worked on, what the student
understood, where they struggled, how engaged they were (0 = disengaged, 1 = fully engaged) and the
most useful next steps. Be concrete and brief; quote the student only when it matters.

${CONTEXT}`,
  progress_update: `Compare this session with the student's earlier sessions and describe their progress for the instructor:
what improved, what is still hard, and whether the trend is up, flat or down. Fill progress_change with
that comparison (say so plainly if there are no earlier sessions).

Earlier analyses of this student:
{{previous_analyses}}

${CONTEXT}`,
  learning_insights: `Identify the learning insights in this session: the concepts covered, misconceptions, the strategies
that helped, and what the instructor should teach or practise next with this student.

${CONTEXT}`,
};

/** Placeholders a template uses that we do not know (a typo would otherwise reach the model). */
export function unknownPlaceholders(template: string): string[] {
  const known = new Set<string>(PLACEHOLDERS);
  return [...template.matchAll(/\{\{\s*([a-zA-Z_]+)\s*\}\}/g)].map((m) => m[1] ?? '').filter((n) => !known.has(n));
}

export function render(template: string, values: Record<Placeholder, string>): string {
  return template.replace(/\{\{\s*([a-zA-Z_]+)\s*\}\}/g, (whole, name: string) => (name in values ? values[name as Placeholder] : whole));
}
