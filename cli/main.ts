/**
 * `sessionlog` — the command line. Talks to any deployment over its HTTP API only: it never opens
 * storage, so it works the same against `npm start`, Vercel or a Worker. See README "Command line".
 */
import { parseArgs } from 'node:util';
import { Client } from './client.js';
import type { Command, Options } from './command.js';
import { helpNeededCommand } from './commands/help-needed.js';
import { helpedCommand } from './commands/helped.js';
import { demoCommand } from './commands/demo.js';
import { exportCommand } from './commands/export.js';
import { progressCommand } from './commands/progress.js';
import { sessionsCommand } from './commands/sessions.js';
import { tailCommand } from './commands/tail.js';
import { writeCommands } from './commands/write.js';
import { CliError, EXIT } from './errors.js';
import { colours } from './output.js';
import { resolveTarget } from './target.js';

const COMMANDS: Command[] = [helpNeededCommand, helpedCommand, sessionsCommand, progressCommand, tailCommand, exportCommand, ...writeCommands, demoCommand];

const GLOBAL: Options = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const GLOBAL_HELP = `Options for every command:
  --url <url>      the deployment (env SESSIONLOG_URL; default http://localhost:3000)
  --token <token>  an instructor/admin token (env SESSIONLOG_TOKEN; locally: ADMIN_TOKEN or .data/admin-token)
  --json           machine-readable output (one JSON document, or one per line for streams)
  -h, --help       this help

Exit codes: 0 ok · 1 the API answered an error (e.g. not found) · 2 usage error · 3 cannot reach the
deployment, it is not a Sessionlog, or the token was refused.`;

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `sessionlog — sessions and events of a Sessionlog deployment, from the terminal

Usage: sessionlog <command> [options]   (sessionlog <command> --help for its options)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

${GLOBAL_HELP}
`;
}

const commandHelp = (c: Command) => `${c.help.trimEnd()}\n\n${GLOBAL_HELP}\n`;

export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const err = colours(process.stderr, env);
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    process.stdout.write(topic ? commandHelp(topic) : mainHelp());
    return EXIT.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`${err('red', 'sessionlog:')} unknown command ${JSON.stringify(name)}\n\n${mainHelp()}`);
    return EXIT.USAGE;
  }
  let json = rest.includes('--json');
  try {
    const parsed = parseArgs({ args: rest, options: { ...GLOBAL, ...command.options }, allowPositionals: true, strict: true });
    const flags = parsed.values as Record<string, string | boolean | undefined>;
    if (flags.help) {
      process.stdout.write(commandHelp(command));
      return EXIT.OK;
    }
    json = flags.json === true;
    const [min, max] = command.positionals;
    const n = parsed.positionals.length;
    if (n < min || n > max) {
      throw new CliError(EXIT.USAGE, `${command.name}: expected ${min === max ? min : `${min}–${max}`} argument${max === 1 ? '' : 's'}, got ${n}\n\n${command.help.trimEnd()}`);
    }
    const target = resolveTarget({ url: flags.url as string | undefined, token: flags.token as string | undefined }, env);
    const code = await command.run({ client: new Client(target, !json), args: parsed.positionals, flags, json, out: colours(process.stdout, env), err, env });
    return code ?? EXIT.OK;
  } catch (e) {
    // parseArgs throws TypeErrors with a code for unknown or malformed flags.
    const code = (e as { code?: string }).code;
    const failure =
      e instanceof CliError
        ? e
        : typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')
          ? new CliError(EXIT.USAGE, `${(e as Error).message}\n(see sessionlog ${command.name} --help)`)
          : undefined;
    if (!failure) throw e;
    if (json) process.stderr.write(`${JSON.stringify({ error: failure.message, exit_code: failure.exitCode, ...(failure.detail ? { problem: failure.detail } : {}) })}\n`);
    else process.stderr.write(`${err('red', 'sessionlog:')} ${failure.message}\n`);
    return failure.exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
