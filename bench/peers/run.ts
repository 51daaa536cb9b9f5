/**
 * boardgame.io, the framework people would pick instead, on its own: `npm run bench:peers` prints
 * its figures in a minute (`npm run bench` measures them next to ours, with ratios). See peer.ts.
 */
import { DEFAULT_DATABASE_URL } from '../lib/db.js';
import { stopAllChildren } from '../lib/common.js';
import { LIGHT_INTERVAL_MS, LIGHT_MATCHES, measurePeer, THROUGHPUT_MATCHES, withPeerDatabase } from './peer.js';

async function main() {
  const fixed = (n: number, digits = 1) => n.toFixed(digits);
  const rows: string[] = [];
  for (const storage of ['memory', 'postgres'] as const) {
    const [throughput, light] =
      storage === 'memory' ? await measurePeer(storage, null) : await withPeerDatabase(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, (url) => measurePeer(storage, url));
    rows.push(
      `| boardgame.io, ${storage === 'memory' ? 'in memory' : 'bgio-postgres'} | ${fixed(throughput.movesPerS, 0)} moves/s (${THROUGHPUT_MATCHES} matches) | ${fixed(light.p50)} / ${fixed(light.p99)} ms (${light.moves} moves) |`,
    );
  }
  console.log(`| peer | moves/s | light-load latency p50 / p99 (${LIGHT_MATCHES} matches, a move every ${LIGHT_INTERVAL_MS / 1000} s each) |`);
  console.log('| --- | --- | --- |');
  for (const row of rows) console.log(row);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => stopAllChildren());
