/**
 * zod for everything in lib/: `zod/mini`, whose functions a bundler keeps only when used (the
 * classic `zod` ships its whole API, ~390 KB, with every function that loads a schema; see
 * ADR 0026), with the English messages that classic zod configures by itself and mini does not.
 * Import it as `import * as z from '…/util/zod.js'`.
 */
import { $constructor, type $ZodLooseShape, type $ZodObjectDef, $ZodObjectJIT, type $ZodType, util } from 'zod/v4/core';
import * as mini from 'zod/mini';
import en from 'zod/v4/locales/en.js';

mini.config(en());

export * from 'zod/mini';

/**
 * Objects parse as classic zod's do. mini's objects check each key in a loop; classic's compile
 * the shape into one function (`$ZodObjectJIT`, where `eval` is allowed; elsewhere, as in workerd,
 * it falls back to the same loop), about a microsecond less per event on this machine. The
 * schema is otherwise mini's own (same traits, so `instanceof ZodMiniObject` holds, and
 * `z.extend` keeps the constructor).
 */
const MiniType: $constructor<mini.ZodMiniType> = mini.ZodMiniType;
const ZodMiniObjectJIT = $constructor('ZodMiniObject', (inst: mini.ZodMiniObject, def: $ZodObjectDef) => {
  $ZodObjectJIT.init(inst, def);
  MiniType.init(inst, def);
  util.installLazyProp(inst, 'shape', (self: mini.ZodMiniObject) => self._zod.def.shape, false);
});

type Params = Parameters<typeof mini.object>[1];
const make = (shape: $ZodLooseShape, catchall: $ZodType | undefined, params: Params) =>
  new ZodMiniObjectJIT({ type: 'object', shape, ...(catchall ? { catchall } : {}), ...util.normalizeParams(params) } as $ZodObjectDef);

export const object: typeof mini.object = ((shape?: $ZodLooseShape, params?: Params) => make(shape ?? {}, undefined, params)) as typeof mini.object;
export const strictObject: typeof mini.strictObject = ((shape: $ZodLooseShape, params?: Params) => make(shape, mini.never(), params)) as typeof mini.strictObject;
export const looseObject: typeof mini.looseObject = ((shape: $ZodLooseShape, params?: Params) => make(shape, mini.unknown(), params)) as typeof mini.looseObject;
