/**
 * The production topology on one machine, without Docker: N app instances on consecutive ports
 * against one DATABASE_URL, and nginx with the repo's own nginx.conf in front (only the lines
 * marked "stack:" are rewritten: upstream servers, static root, listen port, and the pid, log and
 * temp paths, which go to a private folder). The browser tests run the product through this.
 *
 *   npm run stack -- --instances 2 [--port 8080]     (DATABASE_URL, or the embedded server on DATA_DIR)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigOrExit } from '../config.js';
import { startEmbeddedDatabase } from '../db/database.js';
import type { EmbeddedServer } from '../db/embedded.js';
import { createLogger } from '../logger.js';
import { freePort } from '../net.js';

export { freePort };

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface StackOptions {
  databaseUrl: string;
  instances?: number;
  /** nginx's port; 0 picks a free one. */
  port?: number;
  /** How to start one app instance (default: the built server). */
  appCommand?: string[];
  /** Extra environment for the app instances. */
  env?: Record<string, string>;
  /** Where app output goes; default: inherited. */
  onOutput?: (instance: number, chunk: string) => void;
  nginxBinary?: string;
}

export interface AppInstance {
  port: number;
  process: ChildProcess;
  exited: Promise<void>;
}

export interface Stack {
  url: string;
  instances: AppInstance[];
  /** Folder with nginx's config, pid and logs (access.log lists the upstream for each request). */
  dir: string;
  accessLog(): string;
  stop(): Promise<void>;
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A run of `count` consecutive free ports. */
async function consecutivePorts(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below Linux's ephemeral range (32768-60999), where outgoing connections and every "any free
    // port" listener (the embedded PostgreSQL, tests) take theirs: a run found free there can be
    // taken before the instances bind it.
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(ports.map(portIsFree));
    if (free.every(Boolean)) return ports;
  }
  throw new Error('no run of free ports found');
}

/** The repo's nginx.conf with only the "stack:" lines rewritten. */
export function stackNginxConfig(source: string, { dir, port, upstreams }: { dir: string; port: number; upstreams: number[] }): string {
  const replacements: Record<string, (indent: string, line: string) => string> = {
    pid: (i) => `${i}pid ${dir}/nginx.pid;`,
    error_log: (i) => `${i}error_log ${dir}/error.log warn;`,
    access_log: (i) => `${i}access_log ${dir}/access.log main;`,
    temp: (i, line) => `${i}${line.trim().split(/\s+/)[0]} ${dir}/${line.trim().split(/\s+/)[0]};`,
    upstream: (i) => upstreams.map((p) => `${i}server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n'),
    static: (i) => `${i}alias ${path.join(ROOT, 'public')}/;`,
    listen: (i) => `${i}listen 127.0.0.1:${port};`,
  };
  return source
    .split('\n')
    .map((line) => {
      const marker = /^(\s*)(.*?)\s*# stack: (\w+)\s*$/.exec(line);
      if (!marker) return line;
      const [, indent = '', code = '', kind = ''] = marker;
      const replace = replacements[kind];
      if (!replace) throw new Error(`unknown stack marker: ${kind}`);
      return replace(indent, code);
    })
    .join('\n');
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`app instance exited with ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} was not ready within ${timeoutMs} ms`);
}

/** The built server, or the source one when this file itself runs from source (tsx). */
function defaultAppCommand(): string[] {
  const fromSource = import.meta.url.endsWith('.ts');
  return fromSource ? [process.execPath, '--import', 'tsx', path.join(ROOT, 'src/server.ts')] : [process.execPath, path.join(ROOT, 'dist/server.js')];
}

/** Starts app instance number `index` on `port`; its output goes to options.onOutput, or stdout. */
function spawnInstance(appCommand: string[], index: number, port: number, options: StackOptions): AppInstance {
  const child = spawn(appCommand[0]!, [...appCommand.slice(1)], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: process.env.NODE_ENV ?? 'production',
      ...options.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: options.databaseUrl,
      // Exactly one proxy hop (nginx) is trusted for X-Forwarded-For and -Proto.
      TRUST_PROXY: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      if (options.onOutput) options.onOutput(index, chunk);
      else process.stdout.write(chunk);
    });
  }
  return { port, process: child, exited: once(child, 'exit').then(() => undefined) };
}

/** Writes the stack's nginx.conf into `dir`, has nginx check it, and starts nginx on it. */
function spawnNginx(nginxBinary: string, dir: string, port: number, upstreams: number[]): ChildProcess {
  mkdirSync(dir, { recursive: true });
  copyFileSync('/etc/nginx/mime.types', path.join(dir, 'mime.types'));
  const config = stackNginxConfig(readFileSync(path.join(ROOT, 'nginx.conf'), 'utf8'), { dir, port, upstreams });
  writeFileSync(path.join(dir, 'nginx.conf'), config);
  const check = spawnSync(nginxBinary, ['-t', '-q', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx rejected the configuration:\n${check.stderr}`);
  return spawn(nginxBinary, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'inherit' });
}

/** nginx's access log so far; empty before its first request. */
function readAccessLog(dir: string): string {
  try {
    return readFileSync(path.join(dir, 'access.log'), 'utf8');
  } catch {
    return '';
  }
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const count = options.instances ?? 2;
  const dir = mkdtempSync(path.join(tmpdir(), 'ttt-stack-'));
  const ports = await consecutivePorts(count);
  const nginxPort = options.port || (await freePort());
  const appCommand = options.appCommand ?? defaultAppCommand();
  const instances: AppInstance[] = [];
  let nginx: ChildProcess | undefined;

  const stop = async () => {
    if (nginx && nginx.exitCode === null) {
      nginx.kill('SIGQUIT');
      await once(nginx, 'exit');
    }
    await Promise.all(
      instances.map(async (instance) => {
        if (instance.process.exitCode === null && instance.process.signalCode === null) instance.process.kill('SIGTERM');
        await instance.exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (const [index, port] of ports.entries()) instances.push(spawnInstance(appCommand, index, port, options));
    await Promise.all(instances.map((i) => waitForHealth(`http://127.0.0.1:${i.port}`, i.process)));
    nginx = spawnNginx(options.nginxBinary ?? 'nginx', dir, nginxPort, ports);
    const url = `http://127.0.0.1:${nginxPort}`;
    await waitForHealth(url, nginx, 10_000);
    return { url, instances, dir, accessLog: () => readAccessLog(dir), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function main() {
  const args = process.argv.slice(2);
  const value = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  // Without DATABASE_URL the instances share the embedded server, which this process runs on
  // DATA_DIR (and the session secret kept there), as `npm start` would.
  let databaseUrl = process.env.DATABASE_URL;
  let sessionSecret = process.env.SESSION_SECRET;
  let embedded: EmbeddedServer | undefined;
  if (!databaseUrl) {
    const config = loadConfigOrExit({ ...process.env, NODE_ENV: 'development' });
    embedded = await startEmbeddedDatabase(config.dataDir, createLogger(config.logLevel));
    databaseUrl = embedded.url;
    sessionSecret ??= config.sessionSecret;
  }
  if (!sessionSecret) {
    console.error('Set SESSION_SECRET (32 characters or more): every instance must share it.');
    process.exit(1);
  }
  const stack = await startStack({
    databaseUrl,
    env: { SESSION_SECRET: sessionSecret },
    instances: Number(value('--instances') ?? 2),
    port: Number(value('--port') ?? 8080),
  });
  console.log(`\nTic-Tac-Toe Online is up at ${stack.url} (nginx → ${stack.instances.map((i) => i.port).join(', ')}). Ctrl-C stops it.`);
  const shutdown = () => {
    void stack
      .stop()
      .then(() => embedded?.stop())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
