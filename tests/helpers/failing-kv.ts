import { StorageUnavailableError } from '../../lib/errors.js';
import type { Kv } from '../../lib/storage/kv.js';

/** A KV whose every call fails the way an unreachable Redis does. */
export function unreachableKv(): Kv {
  const fail = async (): Promise<never> => {
    throw new StorageUnavailableError('kv', 'connection refused (test)');
  };
  return {
    driver: 'upstash',
    get: fail,
    set: fail,
    del: fail,
    zrem: fail,
    zrangeByScore: fail,
    ping: fail,
    claimActive: fail,
    setActive: fail,
    releaseActive: fail,
  };
}
