import type { Command } from '../command.js';
export const demoCommand: Command = { name: 'demo', summary: 'x', help: 'x', positionals: [0, 0], async run() { return 0; } };
