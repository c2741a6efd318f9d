/**
 * Vercel's bytecode cache, emulated for the `cold` bench group (ADR 0029). Vercel documents that a
 * Node.js 20+ function's CommonJS files have their compiled bytecode cached after their first run,
 * and reused at later cold starts (vercel.com/docs/functions/runtimes/node-js); ES modules are
 * not. How Vercel does it is not published. This does the same with V8's code cache, the only
 * one Node exposes: loaded with `node --require`, it compiles each CommonJS file under
 * SESSIONLOG_BYTECODE_ROOT with the cache from SESSIONLOG_BYTECODE_DIR when there is one, and
 * otherwise writes one for it right after the file has run. That is the conservative reading of
 * "after their first execution": the functions the first request compiles later are not in it.
 *
 * A run that writes the cache is not timed (cold.ts starts one before the timed runs); the
 * timed runs report through globalThis.__sessionlogBytecode how many files used the cache and
 * whether V8 rejected any (a rejected cache compiles from source, and the figure would be wrong).
 */
'use strict';
const Module = require('node:module');
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const root = process.env.SESSIONLOG_BYTECODE_ROOT;
const dir = process.env.SESSIONLOG_BYTECODE_DIR;
const stats = { compiled: 0, fromCache: 0, rejected: 0 };
globalThis.__sessionlogBytecode = stats;

if (root && dir) {
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    if (!filename.startsWith(root)) return compile.call(this, content, filename);
    const file = join(dir, createHash('sha256').update(filename).digest('hex'));
    let cachedData;
    try {
      cachedData = readFileSync(file);
    } catch {}
    const script = new vm.Script(Module.wrap(content), { filename, cachedData });
    stats.compiled++;
    if (cachedData && script.cachedDataRejected) stats.rejected++;
    else if (cachedData) stats.fromCache++;
    const require = (id) => this.require(id);
    require.resolve = (request) => Module._resolveFilename(request, this);
    const result = script.runInThisContext().call(this.exports, this.exports, require, this, filename, dirname(filename));
    if (!cachedData) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, script.createCachedData());
    }
    return result;
  };
}
