/**
 * The YAML parser, imported by lib/node/config-file.ts only when a YAML file exists. A module of
 * our own in between, because `yaml` is CommonJS: a bundler's dynamic `import('yaml')` gives only
 * its `default` (esbuild's split chunks did, and every YAML file was "not valid YAML" in the
 * prebuilt functions), while a static named import from it works in a bundle and in Node alike.
 */
export { parse } from 'yaml';
