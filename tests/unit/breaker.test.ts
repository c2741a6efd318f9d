import { describe, expect, it } from 'vitest';
import { BreakerOpenError, createBreaker } from '../../lib/storage/breaker.js';

const fail = () => Promise.reject(new Error('timeout'));
const ok = () => Promise.resolve('ok');
const always = () => true;

describe('circuit breaker', () => {
  it('opens after consecutive failures, fails fast while open, probes after the cooldown, closes on success', async () => {
    let t = 0;
    const b = createBreaker({ failures: 3, cooldownMs: 1000, now: () => t });
    for (let i = 0; i < 3; i++) await expect(b.run(fail, always)).rejects.toThrow('timeout');
    expect(b.state).toBe('open');
    let called = false;
    await expect(b.run(async () => { called = true; }, always)).rejects.toBeInstanceOf(BreakerOpenError);
    expect(called).toBe(false);

    t = 1000;
    expect(b.state).toBe('half-open');
    await expect(b.run(fail, always)).rejects.toThrow('timeout'); // the probe fails: open again
    expect(b.state).toBe('open');
    t = 2000;
    await expect(b.run(ok, always)).resolves.toBe('ok');
    expect(b.state).toBe('closed');
  });

  it('lets only one probe through at a time, and errors the store answered with do not count', async () => {
    let t = 0;
    const b = createBreaker({ failures: 2, cooldownMs: 10, now: () => t });
    await expect(b.run(fail, () => false)).rejects.toThrow();
    await expect(b.run(fail, () => false)).rejects.toThrow();
    expect(b.state).toBe('closed');
    await expect(b.run(fail, always)).rejects.toThrow();
    await expect(b.run(fail, always)).rejects.toThrow();
    t = 10;
    let release!: () => void;
    const probe = b.run(() => new Promise<string>((r) => { release = () => r('done'); }), always);
    await expect(b.run(ok, always)).rejects.toBeInstanceOf(BreakerOpenError);
    release();
    await expect(probe).resolves.toBe('done');
    expect(b.state).toBe('closed');
  });
});
