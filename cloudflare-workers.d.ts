/**
 * The one workerd built-in the edge door uses: the deployment's bindings, readable at module scope
 * (https://developers.cloudflare.com/workers/runtime-apis/bindings/#importing-env-as-a-global).
 * Declared here rather than pulling in @cloudflare/workers-types for one export.
 */
declare module 'cloudflare:workers' {
  export const env: Record<string, unknown>;
}
