/**
 * The end-to-end checks of test/docker/run.sh: the project's own docker-compose.yml and Dockerfile,
 * built and run on the Docker daemon that run.sh started (DOCKER_HOST), checked as a person and an
 * operator would, through nginx on the published port 8080. Each step prints how long it took; the
 * first failure stops the run with its reason and the services' last log lines.
 *
 *   npx tsx test/docker/checks.ts        (run.sh sets DOCKER_HOST, TTT_DOCKER_WORK and PATH)
 *
 * Every defect of issue 15 has its check here: no 502 from the first request after `up` (nginx
 * waits for healthy apps), a database password full of URL characters, a BuildKit build that needs
 * nothing from Docker Hub (no `# syntax=` line), `--scale app=3` and back without restarting nginx,
 * the site opened as localhost, 127.0.0.1 or another name (no PUBLIC_ORIGIN), the health check on
 * another PORT, and the Node version of the image inside the `engines` range.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { GameState } from '../../src/game/model.js';
import type { ClientMessage, ServerMessage } from '../../src/game/protocol.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORK = process.env.TTT_DOCKER_WORK ?? assert.fail('TTT_DOCKER_WORK is not set: run test/docker/run.sh');
const PROJECT = 'tttdockertest';
const PORT = 8080;
const LOG = path.join(WORK, 'compose.log');
/** The password issue 15 found breaking the apps: every character that means something in a URL. */
const DB_PASSWORD = 'Str0ng@pass/w:rd#1%';
const PASSWORD = 'correct horse battery';

// ---------------------------------------------------------------------------------------------
// Steps and timings

const started = Date.now();
const timings: [string, number][] = [];

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function step<T>(name: string, run: () => Promise<T> | T): Promise<T> {
  const t0 = Date.now();
  process.stdout.write(`- ${name} … `);
  try {
    const result = await run();
    const ms = Date.now() - t0;
    timings.push([name, ms]);
    console.log(`ok (${seconds(ms)})`);
    return result;
  } catch (err) {
    console.log(`FAILED after ${seconds(Date.now() - t0)}`);
    throw Object.assign(err instanceof Error ? err : new Error(String(err)), { step: name });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs` with `what`. */
async function waitUntil<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds(timeoutMs)}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------
// docker and docker-compose

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { input?: string; timeoutMs?: number; log?: boolean } = {}): Run {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', input: options.input, timeout: options.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024 });
  if (options.log !== false) appendFileSync(LOG, `\n$ ${command} ${args.join(' ')}\n${result.stdout ?? ''}${result.stderr ?? ''}`);
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function ok(result: Run, what: string): string {
  if (result.status !== 0) throw new Error(`${what} exited with ${result.status}:\n${(result.stderr || result.stdout).trim().split('\n').slice(-25).join('\n')}`);
  return result.stdout;
}

const ENV_FILE = path.join(WORK, 'compose.env');

/** docker-compose on the repository's own docker-compose.yml, with the .env made from docker/.env.example. */
function compose(args: string[], options: { input?: string; timeoutMs?: number } = {}): string {
  const base = ['-p', PROJECT, '--project-directory', ROOT, '-f', path.join(ROOT, 'docker-compose.yml'), '--env-file', ENV_FILE];
  return ok(run('docker-compose', [...base, ...args], options), `docker-compose ${args.join(' ')}`);
}

function docker(args: string[], options: { timeoutMs?: number; log?: boolean } = {}): string {
  return ok(run('docker', args, options), `docker ${args[0]}`).trim();
}

/** Running containers of a service, by name (tttdockertest_app_1 …). */
function containers(service: string): string[] {
  return docker(['ps', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', `label=com.docker.compose.service=${service}`, '--format', '{{.Names}}'], { log: false })
    .split('\n')
    .filter(Boolean)
    .sort();
}

function inspect(container: string, format: string): string {
  return docker(['inspect', '-f', format, container], { log: false });
}

function addressOf(container: string): string {
  return inspect(container, '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}');
}

/** nginx's access log lines (the container's stdout) since `since` (an RFC 3339 time). */
function nginxLog(since?: string): string[] {
  const [nginx] = containers('nginx');
  const args = ['logs', ...(since ? ['--since', since] : []), nginx!];
  const result = run('docker', args, { log: false });
  return result.stdout.split('\n').filter(Boolean);
}

/** The upstream addresses nginx used in these access log lines ("-" for none). */
function upstreams(lines: string[]): string[] {
  return lines.map((line) => / upstream=(\S+)$/.exec(line)?.[1]).filter((u): u is string => u !== undefined);
}

// ---------------------------------------------------------------------------------------------
// A person with a browser's cookie jar, talking HTTP to nginx under some host name

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

class Person {
  readonly cookies = new Map<string, string>();
  username = '';
  constructor(
    /** The Host the browser uses: localhost:8080, 127.0.0.1:8080, or any other name of the machine. */
    readonly host: string,
  ) {}

  get origin(): string {
    return `http://${this.host}`;
  }

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  request(method: string, target: string, options: { form?: Record<string, string>; headers?: Record<string, string>; gzip?: boolean } = {}): Promise<Response> {
    const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
    const headers: Record<string, string> = {
      Host: this.host,
      ...(this.cookies.size ? { Cookie: this.cookieHeader } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(Buffer.byteLength(body)), Origin: this.origin } : {}),
      ...(options.gzip ? { 'Accept-Encoding': 'gzip' } : {}),
      ...options.headers,
    };
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: PORT, method, path: target, headers, timeout: 15_000 }, (res) => {
        for (const line of res.headers['set-cookie'] ?? []) {
          const [pair = ''] = line.split(';');
          const eq = pair.indexOf('=');
          const name = pair.slice(0, eq).trim();
          const value = pair.slice(eq + 1).trim();
          if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
          else this.cookies.set(name, value);
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${target}: no answer within 15 s`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  get(target: string, options: { gzip?: boolean } = {}): Promise<Response> {
    return this.request('GET', target, options);
  }

  /** Submits the form at `action` on the page at `page`, as the browser would: its hidden fields (the CSRF token) plus `fields`. */
  async submit(page: string, action: string, fields: Record<string, string> = {}): Promise<Response> {
    const html = (await this.get(page)).body;
    const form = formWithAction(html, action);
    return this.request('POST', action, { form: { ...hiddenFields(form), ...fields } });
  }
}

/** The first form whose action (or a button's formaction) is `action`. */
function formWithAction(html: string, action: string): string {
  const forms = html.match(/<form\b[\s\S]*?<\/form>/g) ?? [];
  const found = forms.find((form) => form.includes(`action="${action}"`) || form.includes(`formaction="${action}"`));
  if (!found) throw new Error(`no form posting to ${action} on the page`);
  return found;
}

function hiddenFields(form: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const input of form.match(/<input\b[^>]*type="hidden"[^>]*>/g) ?? []) {
    const name = /name="([^"]*)"/.exec(input)?.[1];
    const value = /value="([^"]*)"/.exec(input)?.[1] ?? '';
    if (name) fields[name] = value.replace(/&#34;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }
  return fields;
}

/** The nav's own accessible bits: "Log out" button when signed in, "Log in" link when not. */
function nav(html: string): string {
  return /<nav\b[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '';
}

function expectRedirect(res: Response, to: string | RegExp, what: string) {
  assert.ok(res.status === 302 || res.status === 303, `${what}: expected a redirect, got ${res.status}: ${res.body.slice(0, 300)}`);
  const location = res.headers.location ?? '';
  assert.ok(typeof to === 'string' ? location === to : to.test(location), `${what}: redirected to ${location}`);
}

function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36).slice(-5)}${Math.floor(Math.random() * 1000)}`;
}

/** Registers with the login form's "Create account" button, as issue 15 asks, and lands in the lobby. */
async function register(person: Person, prefix: string): Promise<void> {
  const username = uniqueName(prefix);
  const res = await person.submit('/login', '/register', { username, password: PASSWORD });
  expectRedirect(res, '/', `register ${username} on ${person.host}`);
  const lobby = await person.get('/');
  assert.match(lobby.body, /Play the computer/, `after registering ${username}, no lobby`);
  assert.match(nav(lobby.body), new RegExp(username));
  person.username = username;
}

async function logIn(person: Person, username = person.username, password = PASSWORD): Promise<void> {
  const res = await person.submit('/login', '/login', { username, password });
  expectRedirect(res, '/', `log in as ${username}`);
  assert.match(nav((await person.get('/')).body), new RegExp(username));
}

// ---------------------------------------------------------------------------------------------
// The live socket at /ws

class Live {
  readonly messages: ServerMessage[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as ServerMessage);
      for (const wake of this.waiters.splice(0)) wake();
    });
    ws.on('close', () => {
      this.closed = true;
      for (const wake of this.waiters.splice(0)) wake();
    });
    ws.on('error', () => {});
  }

  /** Opens the person's socket through nginx, with their cookie and their page's Origin, as the page's script does. */
  static open(person: Person): Promise<Live> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${PORT}/ws`, { headers: { Host: person.host, Origin: person.origin, Cookie: person.cookieHeader } });
      const live = new Live(ws);
      ws.once('open', () => resolve(live));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`/ws answered ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(message: ClientMessage) {
    this.ws.send(JSON.stringify(message));
  }

  /** The first message from `from` on that satisfies `match`. */
  async next<T extends ServerMessage>(match: (m: ServerMessage) => m is T, from = 0, timeoutMs = 5_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(match);
      if (found) return found;
      if (this.closed) throw new Error('the socket closed while waiting');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.slice(from)).slice(0, 400)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, left);
      });
    }
  }

  /** Follows a game; resolves with its whole state. */
  async subscribe(game: string): Promise<GameState> {
    const from = this.messages.length;
    this.send({ type: 'subscribe', game });
    return (await this.next((m): m is Extract<ServerMessage, { type: 'state' }> => m.type === 'state' && m.game.id === game, from)).game;
  }

  /** Waits until the game shows at least `plies` moves. */
  async stateWith(game: string, plies: number, timeoutMs = 5_000): Promise<GameState> {
    return (await this.next((m): m is Extract<ServerMessage, { type: 'state' }> => m.type === 'state' && m.game.id === game && m.game.ply >= plies, 0, timeoutMs)).game;
  }

  async move(game: string, ply: number, cell: number): Promise<void> {
    const id = `move-${ply}`;
    const from = this.messages.length;
    this.send({ type: 'move', id, game, ply, cell });
    const answer = await this.next((m): m is Extract<ServerMessage, { type: 'ack' | 'error' }> => (m.type === 'ack' || m.type === 'error') && m.id === id, from);
    assert.equal(answer.type, 'ack', `move ${cell} at ply ${ply}: ${JSON.stringify(answer)}`);
  }

  close() {
    this.ws.close();
  }
}

/** The app container whose log says it opened the latest live socket of this user since `since`. */
function replicaOfSocket(userId: number, since: string): string | undefined {
  let best: { container: string; time: number } | undefined;
  for (const container of containers('app')) {
    const out = run('docker', ['logs', '--since', since, container], { log: false }).stdout;
    for (const line of out.split('\n')) {
      if (!line.includes('"msg":"live socket opened"') || !line.includes(`"user":${userId},`)) continue;
      const time = Number(/"time":(\d+)/.exec(line)?.[1] ?? 0);
      if (!best || time > best.time) best = { container, time };
    }
  }
  return best?.container;
}

// ---------------------------------------------------------------------------------------------
// The run

function engineRangeHolds(range: string, version: string): boolean {
  const floor = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (!floor) throw new Error(`package.json engines.node is "${range}": this check reads only ">=x.y.z"`);
  const want = floor.slice(1).map((n) => Number(n ?? 0));
  const have = version.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) if (have[i]! !== want[i]!) return have[i]! > want[i]!;
  return true;
}

/**
 * Requests to `/` from the moment `up` returns, one every 0.25 s: every answer must be a 200 (issue
 * 15 saw 17 of the first 18 answer 502, from apps not yet listening). nginx's own container may need
 * a few milliseconds to listen after `up` returns (docker-compose 1.29 has no --wait): a refused
 * connection before nginx's first answer is tried again, for 3 s at most. Returns when the first
 * answer came.
 */
async function probeFromFirstRequest(count: number): Promise<number> {
  const probe = new Person(`127.0.0.1:${PORT}`);
  const t0 = Date.now();
  let firstAnswer = 0;
  const statuses: number[] = [];
  while (statuses.length < count) {
    const status = await probe.get('/').then((r) => r.status, () => 0);
    if (status === 0 && !firstAnswer && Date.now() - t0 < 3_000) {
      await sleep(20);
      continue;
    }
    firstAnswer ||= Date.now();
    statuses.push(status);
    await sleep(250);
  }
  assert.ok(
    statuses.every((s) => s === 200),
    `the first ${count} answers after up, one every 0.25 s, were ${statuses.join(' ')} (0: no answer)`,
  );
  return firstAnswer;
}

async function main() {
  const example = readFileSync(path.join(ROOT, 'docker/.env.example'), 'utf8');
  // docker/.env.example, filled in as the README says: a SESSION_SECRET and a POSTGRES_PASSWORD.
  writeFileSync(
    ENV_FILE,
    example
      .replace(/^SESSION_SECRET=.*$/m, `SESSION_SECRET=${'0123456789abcdef'.repeat(4)}`)
      .replace(/^POSTGRES_PASSWORD=.*$/m, `POSTGRES_PASSWORD=${DB_PASSWORD}`),
  );
  assert.match(readFileSync(ENV_FILE, 'utf8'), new RegExp(`^POSTGRES_PASSWORD=${DB_PASSWORD.replace(/[/%]/g, '\\$&')}$`, 'm'));

  await step('the Dockerfile has no "# syntax=" line (a frontend from Docker Hub)', () => {
    assert.doesNotMatch(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'), /^#\s*syntax\s*=/im);
  });

  await step('docker-compose build (BuildKit, base images only from this daemon)', () => {
    compose(['build'], { timeoutMs: 900_000 });
  });
  const buildMs = timings.at(-1)![1];

  await step("the app image's Node satisfies package.json engines.node", () => {
    const image = `${PROJECT}_app`;
    const version = docker(['run', '--rm', '--entrypoint', 'node', image, '--version']);
    const range = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    assert.ok(engineRangeHolds(range, version), `the image runs Node ${version}, outside engines.node "${range}"`);
    console.log(`    (Node ${version} in the image; engines.node "${range}")`);
  });

  const upStarted = Date.now();
  await step('docker-compose up -d (returns once db and both apps are healthy and nginx started)', () => {
    compose(['up', '-d'], { timeoutMs: 180_000 });
  });
  const firstAnswered = await step('no 502 from the first request: 20 requests from the moment up returns, every 0.25 s', () => probeFromFirstRequest(20));
  const upToFirst200 = firstAnswered - upStarted;

  await step('two app replicas and one nginx run; the apps connected with the URL-character password', () => {
    assert.equal(containers('app').length, 2);
    assert.equal(containers('nginx').length, 1);
    for (const app of containers('app')) {
      const log = run('docker', ['logs', app], { log: false });
      assert.match(log.stdout, /"msg":"listening on/, `${app} is not listening`);
      assert.doesNotMatch(log.stdout + log.stderr, /ENOTFOUND|password authentication failed/, `${app} could not reach the database`);
      assert.equal(inspect(app, '{{.RestartCount}}'), '0', `${app} restarted`);
    }
  });

  const a = new Person(`127.0.0.1:${PORT}`);
  const b = new Person(`localhost:${PORT}`);
  const c = new Person(`ttt.lan:${PORT}`);

  await step('pages through nginx: /, /login, /register, /leaderboard', async () => {
    for (const [page, text] of [
      ['/', /Tic-Tac-Toe/],
      ['/login', /Create account/],
      ['/register', /Create an account/],
      ['/leaderboard', /Leaderboard/i],
    ] as const) {
      const res = await a.get(page);
      assert.equal(res.status, 200, `${page}: ${res.status}`);
      assert.match(res.body, text, page);
    }
    assert.equal((await a.get('/no-such-page')).status, 404);
  });

  await step('static files from nginx itself: gzip, a year of cache for fingerprinted URLs, no app asked', async () => {
    const since = new Date().toISOString();
    const css = /href="(\/static\/css\/site\.css\?v=[0-9a-f]+)"/.exec((await a.get('/login')).body)?.[1];
    assert.ok(css, 'no fingerprinted stylesheet link on /login');
    const res = await a.get(css, { gzip: true });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    const line = await waitUntil('the access log line of the stylesheet', 5_000, () => nginxLog(since).find((l) => l.includes(`"GET ${css} HTTP/1.1" 200`)));
    assert.match(line, / upstream=-$/, `the stylesheet went to an app: ${line}`);
  });

  await step('register via the login form, as 127.0.0.1:8080, localhost:8080 and another name (no PUBLIC_ORIGIN set)', async () => {
    await register(a, 'dka');
    await register(b, 'dkb');
    await register(c, 'dkc');
  });

  await step('log out from the nav, then log in again', async () => {
    const logout = formWithAction(nav((await a.get('/')).body), '/logout');
    assert.match(logout, /Log out/);
    const out = await a.request('POST', '/logout', { form: hiddenFields(logout) });
    expectRedirect(out, /^\/\?logged_out/, 'log out');
    const home = await a.get(out.headers.location!);
    assert.match(home.body, /You have been logged out/);
    assert.match(nav(home.body), /href="\/login"[^>]*>Log in/);
    await logIn(a);
  });

  await step('CSRF: a POST from another site and a POST without a token are refused (403), nothing changes', async () => {
    const forged = await c.request('POST', '/logout', { form: {}, headers: { Origin: 'http://evil.example' } });
    assert.equal(forged.status, 403);
    assert.match(forged.body, /another site/);
    const tokenless = await c.request('POST', '/logout', { form: {} });
    assert.equal(tokenless.status, 403);
    assert.match(nav((await c.get('/')).body), new RegExp(c.username), 'the forged POSTs logged the victim out');
  });

  // A live game over /ws, its two players' sockets on different replicas.
  const game = await step('a friend game: A (127.0.0.1) invites, B (localhost) joins', async () => {
    const created = await a.submit('/', '/games', { mode: 'friend', playAs: 'X' });
    expectRedirect(created, /^\/games\/[A-Za-z0-9]{12}$/, 'create a game');
    const id = created.headers.location!.slice('/games/'.length);
    const joined = await b.submit(`/games/${id}`, `/games/${id}/join`);
    expectRedirect(joined, `/games/${id}`, 'join the game');
    return id;
  });

  let liveA: Live | undefined;
  let liveB: Live | undefined;
  const ids = { a: 0, b: 0 };
  const replicas = await step('both players live over /ws through nginx, on different replicas', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    liveA = await Live.open(a);
    const state = await liveA.subscribe(game);
    assert.equal(state.status, 'active');
    ids.a = state.players.X!.id!;
    ids.b = state.players.O!.id!;
    const replicaA = await waitUntil("the replica of A's socket", 5_000, () => replicaOfSocket(ids.a, since));
    // nginx picks a replica per connection: open B's socket again until it lands on the other one.
    for (let attempt = 1; ; attempt++) {
      const opened = new Date(Date.now() - 1000).toISOString();
      liveB = await Live.open(b);
      await liveB.subscribe(game);
      const replicaB = await waitUntil("the replica of B's socket", 5_000, () => replicaOfSocket(ids.b, opened));
      if (replicaB !== replicaA) {
        console.log(`\n    (A's socket on ${replicaA}, B's on ${replicaB}, after ${attempt} attempt(s))`);
        return { a: replicaA, b: replicaB };
      }
      assert.ok(attempt < 20, 'twenty sockets in a row went to the same replica');
      liveB.close();
      await sleep(300);
    }
  });

  await step('moves cross replicas live: X 4, O 0, X 2, each acknowledged and seen by the other player', async () => {
    await liveA!.move(game, 0, 4);
    await liveB!.stateWith(game, 1);
    await liveB!.move(game, 1, 0);
    await liveA!.stateWith(game, 2);
    await liveA!.move(game, 2, 2);
  });

  await step("kill -9 the replica holding O's socket mid-game: O reconnects through nginx, no move lost, the game goes on", async () => {
    const pid = inspect(replicas.b, '{{.State.Pid}}');
    const killedAt = Date.now();
    process.kill(Number(pid), 'SIGKILL');
    await waitUntil("O's socket to close", 10_000, () => (liveB!.closed ? true : undefined));
    liveB = await waitUntil('O to reconnect through nginx', 15_000, () => Live.open(b));
    const state = await liveB.subscribe(game);
    console.log(`\n    (O live again ${seconds(Date.now() - killedAt)} after the kill)`);
    assert.deepEqual(state.moves, [4, 0, 2], 'moves after the kill');
    await liveB.move(game, 3, 6);
    await liveA!.stateWith(game, 4);
    await liveA!.move(game, 4, 8);
    await liveB.stateWith(game, 5);
    await liveB.move(game, 5, 3);
    const end = await liveA!.stateWith(game, 6);
    assert.equal(end.status, 'finished');
    assert.equal(end.result, 'o_won');
    assert.deepEqual(end.moves, [4, 0, 2, 6, 8, 3]);
    liveA!.close();
    liveB.close();
  });

  await step('the killed replica came back (restart: unless-stopped) and turns healthy', () =>
    waitUntil(`${replicas.b} healthy again`, 60_000, () => (inspect(replicas.b, '{{.State.Health.Status}}') === 'healthy' ? true : undefined)),
  );

  await step('nginx spread the requests over both replicas', () => {
    const used = new Set(upstreams(nginxLog()).filter((u) => u !== '-'));
    const apps = containers('app').map((name) => `${addressOf(name)}:3000`);
    for (const address of apps) assert.ok(used.has(address), `no request went to ${address}; nginx used ${[...used].join(', ')}`);
  });

  const admin = { name: uniqueName('dkadm') };
  await step('create-admin: promotes an existing account, and creates one from a password on stdin', async () => {
    assert.match(compose(['exec', '-T', 'app', 'create-admin', a.username]), /is now an admin/);
    assert.equal((await a.get('/admin/users')).status, 200, 'the promoted admin cannot open /admin/users');
    assert.match(compose(['exec', '-T', 'app', 'create-admin', admin.name], { input: `${PASSWORD}\n` }), /Created the admin account/);
    const fresh = new Person(`127.0.0.1:${PORT}`);
    await logIn(fresh, admin.name);
    assert.equal((await fresh.get('/admin/users')).status, 200);
  });

  await step('docker-compose up -d --scale app=3: the third replica gets requests, nginx not restarted', async () => {
    const [nginx] = containers('nginx');
    const nginxStarted = inspect(nginx!, '{{.State.StartedAt}}');
    const since = new Date().toISOString();
    compose(['up', '-d', '--scale', 'app=3'], { timeoutMs: 120_000 });
    const apps = containers('app');
    assert.equal(apps.length, 3);
    const wanted = apps.map((name) => `${addressOf(name)}:3000`);
    await waitUntil('requests reaching all three replicas', 20_000, async () => {
      for (let i = 0; i < 15; i++) assert.equal((await a.get('/leaderboard')).status, 200);
      const used = new Set(upstreams(nginxLog(since)));
      return wanted.every((address) => used.has(address)) ? true : undefined;
    });
    assert.equal(inspect(nginx!, '{{.State.StartedAt}}'), nginxStarted, 'nginx was restarted');
  });

  await step('docker-compose up -d --scale app=2: none fails, and once nginx has asked the DNS again (1 s) none waits for the removed replica', async () => {
    const [nginx] = containers('nginx');
    const nginxStarted = inspect(nginx!, '{{.State.StartedAt}}');
    compose(['up', '-d', '--scale', 'app=2'], { timeoutMs: 120_000 });
    const removedAt = Date.now();
    assert.equal(containers('app').length, 2);
    const slow: string[] = [];
    let slowest = 0;
    while (Date.now() - removedAt < 4_000) {
      const t0 = Date.now();
      const res = await a.get('/leaderboard');
      const ms = Date.now() - t0;
      assert.equal(res.status, 200);
      slowest = Math.max(slowest, ms);
      // Before 1.5 s the address may still be in nginx's DNS cache (valid=1s, then the request in flight).
      if (t0 - removedAt > 1_500 && ms > 1_000) slow.push(`${ms} ms at ${t0 - removedAt} ms`);
      await sleep(50);
    }
    console.log(`\n    (slowest request right after the scale-down: ${slowest} ms)`);
    assert.deepEqual(slow, [], 'requests that waited for a connect timeout to the removed replica');
    assert.equal(inspect(nginx!, '{{.State.StartedAt}}'), nginxStarted, 'nginx was restarted');
  });

  await step('HEALTHCHECK follows PORT: the app image on PORT=4000 turns healthy', async () => {
    const name = `${PROJECT}_port_check`;
    const env = {
      NODE_ENV: 'production',
      PORT: '4000',
      DATABASE_URL: 'postgres://ttt@db:5432/ttt',
      PGPASSWORD: DB_PASSWORD,
      SESSION_SECRET: '0123456789abcdef'.repeat(4),
      LOG_LEVEL: 'warn',
    };
    docker(['run', '-d', '--name', name, '--network', `${PROJECT}_default`, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), `${PROJECT}_app`]);
    try {
      await waitUntil('the PORT=4000 container healthy', 45_000, () => {
        const health = inspect(name, '{{.State.Health.Status}}');
        if (health === 'unhealthy') throw new Error('unhealthy');
        return health === 'healthy' ? true : undefined;
      });
    } finally {
      run('docker', ['rm', '-f', name], { log: false });
    }
  });

  await step('docker-compose down, then up: accounts and games kept, and again no 502 from the first request', async () => {
    compose(['down'], { timeoutMs: 120_000 });
    assert.equal(containers('app').length, 0);
    compose(['up', '-d'], { timeoutMs: 180_000 });
    await probeFromFirstRequest(8);
    const again = new Person(`127.0.0.1:${PORT}`);
    await logIn(again, a.username);
    const page = await again.get(`/games/${game}`);
    assert.equal(page.status, 200);
    const live = await Live.open(again);
    const state = await live.subscribe(game);
    live.close();
    assert.deepEqual(state.moves, [4, 0, 2, 6, 8, 3]);
    assert.equal(state.result, 'o_won');
  });

  await step('docker-compose down -v', () => {
    compose(['down', '-v', '--remove-orphans'], { timeoutMs: 120_000 });
  });

  console.log('\nTimings:');
  console.log(`  image build (docker-compose build, both targets, empty build cache): ${seconds(buildMs)}`);
  console.log(`  docker-compose up -d to the first 200 through nginx (a new volume: initdb, migrations): ${seconds(upToFirst200)}`);
  console.log(`  build, up and every check, to down -v: ${seconds(Date.now() - started)}`);
}

main().then(
  () => process.exit(0),
  (err: Error & { step?: string }) => {
    console.error(`\nDOCKER CHECK FAILED${err.step ? ` at "${err.step}"` : ''}: ${err.message}`);
    if (err.stack) console.error(err.stack.split('\n').slice(1, 6).join('\n'));
    try {
      const logs = run('docker-compose', ['-p', PROJECT, '--project-directory', ROOT, '-f', path.join(ROOT, 'docker-compose.yml'), '--env-file', ENV_FILE, 'logs', '--no-color', '--tail=40'], { log: false });
      console.error(`\nThe services' last log lines:\n${logs.stdout}${logs.stderr}`);
    } catch {
      // the daemon may be gone
    }
    console.error(`Every docker-compose command's output: ${LOG}`);
    process.exit(1);
  },
);
