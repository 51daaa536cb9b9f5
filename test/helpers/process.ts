/** Runs the product's own entry points (server.ts, migrate-cli.ts) as child processes, as `npm` would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  /** Everything printed so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the first stdout line that matches, or rejects when the process ends first or time runs out. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process has ended. */
  exited: Promise<Finished>;
}

/**
 * The environment a child gets: PATH and HOME from ours, nothing else of the parent's (no
 * DATABASE_URL or PORT leaking in from the shell that runs the tests), plus what the test names.
 */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG'];
  return { ...Object.fromEntries(keep.filter((k) => process.env[k]).map((k) => [k, process.env[k]])), ...env };
}

/** Starts `node --import tsx <script>` in the project folder. */
export function startScript(script: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close', not 'exit': only then has everything the process printed been read.
  const exited = once(child, 'close').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    stdout,
    stderr,
  }));

  function waitForLine(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = stdout.split('\n').find((l) => pattern.test(l));
        if (line === undefined) return false;
        done();
        resolve(line);
        return true;
      };
      const onData = () => void check();
      const onClose = () => {
        if (check()) return;
        done();
        reject(new Error(`process ended before printing ${pattern}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      }, timeoutMs);
      function done() {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.off('close', onClose);
      }
      if (check()) return;
      child.stdout!.on('data', onData);
      child.once('close', onClose);
    });
  }

  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitForLine,
    exited,
  };
}

/** Runs a script to its end. */
export function runScript(script: string, env: Record<string, string>): Promise<Finished> {
  return startScript(script, env).exited;
}

/** The JSON log lines (pino) a process printed on stdout. */
export function logLines(stdout: string): { msg?: string; level?: number; [key: string]: unknown }[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string });
}
