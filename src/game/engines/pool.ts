/**
 * The worker threads that think for the computer in Ultimate (piscina), so a search never blocks
 * the event loop. Each move gets the configured time budget while the pool keeps up; when moves
 * queue (many games against the computer at once) each one's budget shrinks in proportion, so the
 * computer answers a little weaker rather than later.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { EvaluateTask, Evaluation, ThinkTask, WorkerTask } from './ultimate/worker.js';
import type { Thought } from './ultimate/players.js';

export interface EnginePoolOptions {
  /** Worker threads; default: one fewer than the cores (at least one), leaving a core for pages. */
  threads?: number;
  /** Hard's time per move with no queue (ms). */
  budgetMs: number;
}

/** The least time a move gets however long the queue (ms). */
export const MIN_BUDGET_MS = 20;
/**
 * Moves waiting per thread before new ones are refused: at MIN_BUDGET_MS each, the last waits
 * under a second.
 */
export const QUEUE_PER_THREAD = 40;

export interface EnginePool {
  /** Thinks about one move. `timeMs` is filled in from the budget and the queue. */
  think(task: Omit<ThinkTask, 'timeMs' | 'kind'>): Promise<Thought>;
  /** A fixed-size search of a position (analysis): queued like moves, but never shortened. */
  evaluate(task: Omit<EvaluateTask, 'kind'>): Promise<Evaluation>;
  /** Budget a move submitted now would get (ms). */
  currentBudget(): number;
  /** The queue is full (QUEUE_PER_THREAD moves per thread): refuse new moves rather than wait. */
  saturated(): boolean;
  close(): Promise<void>;
}

/** Under tsx (tests, `npm run dev`) the worker is TypeScript source and needs tsx's loader too. */
function workerFile(): { filename: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const filename = fileURLToPath(new URL(`./ultimate/worker.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  return { filename, execArgv: fromSource ? ['--import', 'tsx'] : [] };
}

export function createEnginePool(options: EnginePoolOptions): EnginePool {
  const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
  const pool = new Piscina<WorkerTask, Thought | Evaluation>({ ...workerFile(), minThreads: 0, maxThreads: threads, idleTimeout: 60_000 });
  let inFlight = 0;
  const currentBudget = () => Math.max(MIN_BUDGET_MS, Math.floor((options.budgetMs * threads) / Math.max(threads, inFlight + 1)));
  return {
    currentBudget,
    saturated: () => inFlight >= threads * QUEUE_PER_THREAD,
    async think(task) {
      const timeMs = currentBudget();
      inFlight++;
      try {
        return (await pool.run({ ...task, kind: 'move', timeMs })) as Thought;
      } finally {
        inFlight--;
      }
    },
    evaluate: async (task) => (await pool.run({ ...task, kind: 'evaluate' })) as Evaluation,
    close: () => pool.destroy(),
  };
}
