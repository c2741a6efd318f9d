import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ConfigFile, ConfigFileError, fileName, parseConfigFile } from '../config-file.js';

const NAMES = ['session.config.yaml', 'session.config.yml', 'session.config.json'];

/**
 * Read session.config.{yaml,yml,json} from `dir` (or the file SESSION_CONFIG_FILE names) and
 * validate it. No file: undefined (the shipped defaults apply). A broken file is an error that
 * names the file and the bad keys.
 */
export async function loadConfigFile(dir = process.cwd(), explicit = process.env.SESSION_CONFIG_FILE): Promise<ConfigFile | undefined> {
  // Absent names are skipped with a stat, not a failed read each: three reads are three turns of
  // the event loop, and a cold Vercel function opens its database connection only after this.
  const candidates = explicit ? [explicit] : NAMES.map((n) => join(dir, n)).filter((path) => existsSync(path));
  for (const path of candidates) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) continue;
      throw new ConfigFileError(`${path}: cannot be read (${(err as Error).message})`, `${fileName(path)}: cannot be read`);
    }
    let raw: unknown;
    try {
      // The YAML parser (250 KB) is loaded only when there is a YAML file: most deployments have
      // none, and a static import would be compiled on every cold start (ADR 0020).
      raw = path.endsWith('.json') ? JSON.parse(text) : (await import('./yaml.js')).parse(text);
    } catch (err) {
      const kind = path.endsWith('.json') ? 'JSON' : 'YAML';
      // The parser's message quotes the offending text; the public message keeps only the line.
      const line = (err as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
      throw new ConfigFileError(`${path}: not valid ${kind} (${(err as Error).message})`, `${fileName(path)}: not valid ${kind}${line ? ` (line ${line})` : ''}`);
    }
    return parseConfigFile(raw, path);
  }
  return undefined;
}
