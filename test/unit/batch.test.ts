import { describe, expect, it } from 'vitest';
import { batched } from '../../src/db/batch.js';

/** A flush whose calls are recorded and finished by hand. */
function controlledFlush() {
  const calls: { items: number[]; finish: (err?: Error) => void }[] = [];
  const flush = (items: number[]) =>
    new Promise<void>((resolve, reject) => calls.push({ items, finish: (err) => (err ? reject(err) : resolve()) }));
  return { calls, flush };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('batched writes', () => {
  it('flushes a lone item at once, and groups the items that arrive while a flush is in flight', async () => {
    const { calls, flush } = controlledFlush();
    const write = batched(flush);
    const first = write(1);
    expect(calls.map((c) => c.items)).toEqual([[1]]);
    const later = [write(2), write(3), write(4)];
    await tick();
    expect(calls).toHaveLength(1); // they wait for the flush in flight
    calls[0]!.finish();
    await first;
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3, 4]]);
    calls[1]!.finish();
    await Promise.all(later);
  });

  it('rejects only the items of a failed flush, and goes on with the next', async () => {
    const { calls, flush } = controlledFlush();
    const write = batched(flush);
    const failed = write(1);
    const next = write(2);
    calls[0]!.finish(new Error('database gone'));
    await expect(failed).rejects.toThrow('database gone');
    await tick();
    calls[1]!.finish();
    await expect(next).resolves.toBeUndefined();
  });

  it('splits a long queue into batches of the maximum size, in order', async () => {
    const { calls, flush } = controlledFlush();
    const write = batched(flush, 2);
    const all = [1, 2, 3, 4, 5].map((n) => write(n));
    for (let i = 0; i < 3; i++) {
      await tick();
      calls[i]!.finish();
    }
    await Promise.all(all);
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3], [4, 5]]);
  });
});
