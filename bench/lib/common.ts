/**
 * Shared by the bench orchestrator and its child processes: durations (full or smoke), CPU
 * pinning, child processes, statistics.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `BENCH_SMOKE=1`: the same workloads with tiny durations and counts, only to prove they run. */
export const SMOKE = process.env.BENCH_SMOKE === '1';

export interface Sizes {
  /** Seconds of warm-up before the measured runs of a workload. */
  warmupS: number;
  /** Seconds per measured run of an HTTP throughput workload. */
  httpRunS: number;
  /** Seconds per measured run of a WebSocket or pgbench workload. */
  movesRunS: number;
  /** Seconds per measured window of the storm workload. */
  stormRunS: number;
  /** Games played in parallel (the issue: 200 for the latency row). */
  games: number;
  /** Games seeded per parallel slot (each game is 9 moves). */
  gamesPerSlot: number;
  /** WebSocket connections held open by one instance for the idle-socket row. */
  idleSockets: number;
  /** perfectMove calls per run. */
  aiCalls: number;
  /** Connections autocannon keeps open. */
  httpConnections: number;
}

export const SIZES: Sizes = SMOKE
  ? { warmupS: 0, httpRunS: 1, movesRunS: 1, stormRunS: 0.6, games: 8, gamesPerSlot: 12, idleSockets: 200, aiCalls: 1_000, httpConnections: 8 }
  : { warmupS: 1, httpRunS: 3, movesRunS: 4, stormRunS: 5, games: 200, gamesPerSlot: 60, idleSockets: 10_000, aiCalls: 10_000, httpConnections: 32 };

/** Measured runs per workload (the median is reported); the smoke run makes one. */
export const RUNS = SMOKE ? 1 : 3;

// --- CPU pinning -------------------------------------------------------------------------------

const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).status === 0;
const cpuCount = (() => {
  const out = spawnSync('nproc', [], { encoding: 'utf8' });
  return Number(out.stdout.trim()) || 1;
})();

/** Servers (app, nginx, baselines) on CPU 0, load generators on CPU 1, when there are two. */
export const PINNING = hasTaskset && cpuCount >= 2;
export const SERVER_CPU = '0';
export const LOAD_CPU = String(cpuCount - 1);

export function pinned(cpu: string, command: string[]): string[] {
  return PINNING ? ['taskset', '-c', cpu, ...command] : command;
}

/**
 * Runs `command` with the open-files limit raised to the hard limit (10,000 sockets need more
 * than the usual 1,024). `exec` keeps the pid, so /proc/<pid> is the final program's.
 */
export function withFileLimit(command: string[]): string[] {
  const script = 'h=$(ulimit -Hn); [ "$h" = unlimited ] && h=65536; ulimit -n "$h"; exec "$@"';
  return ['bash', '-c', script, 'bash', ...command];
}

/** The hard open-files limit children get (caps the idle-socket count). */
export function hardFileLimit(): number {
  const out = spawnSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  return out === 'unlimited' ? 65_536 : Number(out) || 1_024;
}

/** `node --import tsx bench/<script>` */
export function tsxScript(script: string, args: string[] = []): string[] {
  return [process.execPath, '--import', 'tsx', `${ROOT}bench/${script}`, ...args];
}

// --- child processes -----------------------------------------------------------------------------

export interface Child {
  process: ChildProcess;
  pid: number;
  /** The last few kilobytes of output, for error messages. */
  tail(): string;
  /** Lines printed on stdout so far. */
  lines: string[];
  exited: Promise<number | null>;
  /** Resolves with the first stdout line that parses as JSON and matches. */
  waitForJson<T>(match: (value: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<T>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const children = new Set<Child>();

export function startChild(command: string[], env: Record<string, string> = {}, label = command.join(' ')): Child {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let tail = '';
  const lines: string[] = [];
  let partial = '';
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4000);
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    // Only keep lines that look like JSON results; logs are only kept in the tail.
    for (const line of parts) if (line.startsWith('{"bench"')) lines.push(line);
    for (const wake of listeners) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4000);
  });
  // 'close', not 'exit': by then everything it printed has been read.
  const exited = once(child, 'close').then(([code]) => code as number | null);
  const handle: Child = {
    process: child,
    pid: child.pid!,
    tail: () => tail,
    lines,
    exited,
    waitForJson<T>(match: (value: Record<string, unknown>) => boolean, timeoutMs = 120_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        let seen = 0;
        const check = (): boolean => {
          for (; seen < lines.length; seen++) {
            const value = (JSON.parse(lines[seen]!) as { bench: Record<string, unknown> }).bench;
            if (match(value)) {
              done();
              resolve(value as T);
              return true;
            }
          }
          return false;
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${label}: no result within ${timeoutMs} ms\n${tail}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then((code) => {
          if (listeners.has(check) && !check()) {
            done();
            reject(new Error(`${label} exited with ${code} before printing its result\n${tail}`));
          }
        });
        check();
      });
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      children.delete(handle);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  children.add(handle);
  return handle;
}

/** Kills every child still running (on error or Ctrl-C). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop('SIGKILL')));
}

/** Prints one result line for the orchestrator: `{"bench": {...}}`. */
export function emit(value: Record<string, unknown>): void {
  process.stdout.write(`{"bench":${JSON.stringify(value)}}\n`);
}

/** Reads lines from stdin and calls `onLine` for each (the orchestrator's commands). */
export function onStdinLine(onLine: (line: string) => void): void {
  let partial = '';
  process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) onLine(line.trim());
  });
}

export async function waitForHttp(url: string, child?: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.process.exitCode !== null) throw new Error(`${url}: the server exited\n${child.tail()}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    await sleep(50);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms${child ? `\n${child.tail()}` : ''}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resident set size of a process in KiB, from /proc/<pid>/status. */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

// --- statistics ----------------------------------------------------------------------------------

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile of unsorted values. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
