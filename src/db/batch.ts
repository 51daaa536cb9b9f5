/**
 * Group commit for small writes that many callers make at once (live events, presence): while one
 * flush is in flight, new items wait and all go together in the next one. An idle system flushes
 * at once, so a lone caller waits no longer than before; a busy one pays one round trip and one
 * commit per batch instead of one per item. Each call settles with the flush that carried it.
 */
export function batched<T>(flush: (items: T[]) => Promise<void>, maxBatch = 200): (item: T) => Promise<void> {
  const queue: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  let flushing = false;

  async function drain() {
    flushing = true;
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      try {
        await flush(batch.map((entry) => entry.item));
        for (const entry of batch) entry.resolve();
      } catch (err) {
        for (const entry of batch) entry.reject(err);
      }
    }
    flushing = false;
  }

  return (item) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!flushing) void drain();
    });
}
