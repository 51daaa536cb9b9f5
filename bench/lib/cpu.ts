/**
 * CPU time used by processes, from /proc: how busy each side was during a run, and the CPU cost
 * per request. On a shared machine those hold much better than the rates: a server that got half
 * a core because other work ran beside it serves half the requests at the same cost each.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User + system CPU seconds of a process and all its threads so far; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Direct children of a process (nginx's workers). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Measures the CPU seconds a set of processes uses between start and stop. */
export function cpuMeter(pids: number[]): () => number {
  const before = pids.map(cpuSeconds);
  return () => pids.reduce((sum, pid, i) => sum + Math.max(0, cpuSeconds(pid) - before[i]!), 0);
}

/** Busy CPU seconds of the whole machine so far (every process: servers, PostgreSQL, load generators). */
function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice: idle and iowait are not busy,
  // and guest time is already counted in user.
  const busy = [0, 1, 2, 5, 6, 7].reduce((sum, i) => sum + (fields[i] ?? 0), 0);
  return busy / CLK_TCK;
}

/** Measures the busy CPU seconds of the whole machine between start and stop. */
export function machineCpuMeter(): () => number {
  const before = machineBusySeconds();
  return () => machineBusySeconds() - before;
}
