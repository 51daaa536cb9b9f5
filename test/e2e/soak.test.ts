/**
 * The soak (bench/soak.ts) for 30 seconds, so CI exercises it: bots playing friend games and the
 * computer through nginx and two instances. Nothing lost or duplicated, every game consistent, no
 * 5xx, no server error on a socket, memory not growing after warm-up. `npm run soak` is the full
 * ten minutes with 200 bots. SOAK_SECONDS and SOAK_BOTS override the figures here too.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatReport, runSoak, verdict } from '../../bench/soak.js';
import { adminUrl, databaseKinds } from '../helpers/database.js';

const hasNginx = spawnSync('sh', ['-c', 'command -v nginx']).status === 0;
const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
/** Fewer than the full run's 200: this shares two cores with the rest of the suite. */
const BOTS = Number(process.env.SOAK_BOTS ?? 40);

describe.skipIf(!hasNginx).each(databaseKinds)('soak on the %s database', (kind) => {
  it(`plays ${BOTS} bots for ${SECONDS} s with nothing lost, no 5xx and flat memory`, { timeout: (SECONDS + 120) * 1000 }, async () => {
    const lines: string[] = [];
    const report = await runSoak({
      databaseUrl: adminUrl(kind),
      seconds: SECONDS,
      bots: BOTS,
      warmupSeconds: Math.min(60, SECONDS / 3),
      log: (line) => lines.push(line),
    });
    console.info(formatReport(report));
    expect(verdict(report, { maxGrowthMiB: SECONDS < 120 ? 64 : 40 }), lines.join('\n')).toEqual([]);
    // Play really flowed: every bot moved several times.
    expect(report.movesAcked).toBeGreaterThan(BOTS * 2);
    expect(report.unexpectedCloses).toBe(0);
  });
});
