/**
 * Hostile input, generated: fast-check throws random and malformed requests at every route of the
 * route table (missing fields, arrays instead of strings, huge strings, unicode, control
 * characters, SQL and HTML payloads, bad ids, bad or missing CSRF tokens, odd content types and
 * methods) and random frames at the WebSocket (bad JSON, wrong types, huge numbers, unknown types,
 * binary frames, oversized frames, floods). More than 10,000 cases a run.
 *
 * For every case: never a 5xx, never a `server_error` frame, the process keeps answering, and a
 * refused request (4xx, or a redirect to the login page) changes nothing: the accounts, games,
 * moves and admin log are exactly as before.
 */
import { Agent, request as httpRequest } from 'node:http';
import fc from 'fast-check';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { clientMessageSchema } from '../../src/game/protocol.js';
import { createGame, joinGame, makeMove, resign } from '../../src/game/service.js';
import { csrfTokenIn, GOOD_PASSWORD, startTestApp, uniqueName, type TestApp } from '../helpers/app.js';
import { databaseKinds } from '../helpers/database.js';

/** Cases per run, on each kind of database (both are real PostgreSQL servers). */
const HTTP_CASES = Number(process.env.FUZZ_HTTP_CASES ?? 4_000);
const HTTP_BATCH = 25;
const WS_BATCHES = Number(process.env.FUZZ_WS_BATCHES ?? 390);
/** Under the per-socket burst of 20, with room for the sentinel: a flood is its own case. */
const FRAMES_PER_BATCH = 19;

type Persona = 'visitor' | 'x' | 'o' | 'outsider' | 'admin';
const PERSONAS: Persona[] = ['visitor', 'x', 'o', 'outsider', 'admin'];

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** The light digest a refused request must leave alone: counts, versions and every account field. */
async function digest(db: Pool): Promise<string> {
  const { rows } = await db.query<{ d: string }>(
    `SELECT concat_ws(' ',
       (SELECT count(*) FROM users), (SELECT count(*) FROM games), (SELECT count(*) FROM moves),
       (SELECT coalesce(sum(version), 0) FROM games), (SELECT count(*) FROM admin_actions), (SELECT count(*) FROM email_tokens),
       (SELECT md5(string_agg(concat_ws('|', id, username, password_hash, is_active, is_admin, sessions_valid_after, deleted_at, email), ',' ORDER BY id)) FROM users)
     ) AS d`,
  );
  return rows[0]!.d;
}

// ---- Generators ------------------------------------------------------------------------------

const SQL = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  "admin'--",
  '1; SELECT pg_sleep(5)',
  "' UNION SELECT password_hash FROM users --",
  '$1',
  '\\',
  "''",
  '%',
  '_',
];
const HTML = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'><svg onload=alert(1)>",
  'javascript:alert(1)',
  '<!--',
  '</textarea><script>1</script>',
  '{{7*7}}',
  '<%= process.exit() %>',
  '${process.exit()}',
];
const SPECIAL = ['', ' ', 'null', 'undefined', 'true', '[]', '{}', 'NaN', 'Infinity', '-1', '1e309', '0x10', '9'.repeat(400), '00', '1.5', '-0'];
const USEFUL = ['ai', 'friend', 'open', 'easy', 'medium', 'perfect', 'X', 'O', 'random', 'login', '0', '1', '4', '8', '9', '/', '/account', '//evil.example', 'https://evil.example'];

const controlChars = fc.string({ unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)), maxLength: 20 });
const hugeString = fc.integer({ min: 500, max: 12_000 }).map((n) => 'A'.repeat(n));
const fieldValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: controlChars },
  { weight: 2, arbitrary: fc.constantFrom(...SQL) },
  { weight: 2, arbitrary: fc.constantFrom(...HTML) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 3, arbitrary: fc.constantFrom(...USEFUL) },
  { weight: 1, arbitrary: hugeString },
);

/** One field as a form would carry it: a value, repeated values (an array), or a bracketed key. */
type Field = { kind: 'value'; value: string } | { kind: 'array'; values: string[] } | { kind: 'bracket'; key: string; value: string };
const field: fc.Arbitrary<Field> = fc.oneof(
  { weight: 6, arbitrary: fieldValue.map((value) => ({ kind: 'value' as const, value })) },
  { weight: 2, arbitrary: fc.array(fieldValue, { minLength: 0, maxLength: 4 }).map((values) => ({ kind: 'array' as const, values })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', '0', '__proto__', 'constructor', ''), fieldValue).map(([key, value]) => ({ kind: 'bracket' as const, key, value })) },
);

const ROUTE_FIELDS: Record<string, string[]> = {
  '/login': ['username', 'password', 'next'],
  '/register': ['username', 'password', 'confirm', 'from', 'next'],
  '/logout': [],
  '/account/password': ['currentPassword', 'newPassword', 'confirm'],
  '/account/sessions': [],
  '/account/delete': ['password'],
  '/account/email': ['email', 'password'],
  '/account/email/confirm': ['token'],
  '/forgot': ['login'],
  '/reset': ['newPassword', 'confirm'],
  '/games': ['mode', 'level', 'playAs'],
  '/games/:id/join': [],
  '/games/:id/moves': ['ply', 'cell'],
  '/games/:id/resign': [],
  '/games/:id/claim': [],
  '/games/:id/rematch': [],
  '/admin/users/:id/:action': ['back'],
};
const GET_ROUTES = ['/', '/lobby/lists', '/login', '/register', '/logout', '/account', '/users/:username', '/leaderboard', '/admin/users', '/games/:id', '/games/:id/hint', '/forgot', '/reset', '/reset/:id', '/account/email/confirm/:id'];
const QUERY_KEYS = ['next', 'q', 'page', 'ply', 'logged_out', 'deleted', 'v'];

type IdChoice = { kind: 'fixture'; which: number } | { kind: 'raw'; value: string };
const pathId: fc.Arbitrary<IdChoice> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 7 }).map((which) => ({ kind: 'fixture' as const, which })) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9]{12}$/).map((value) => ({ kind: 'raw' as const, value })) },
  { weight: 3, arbitrary: fieldValue.map((value) => ({ kind: 'raw' as const, value })) },
  { weight: 1, arbitrary: fc.constantFrom('..%2F..%2Fetc%2Fpasswd', '%00', '%', '%E0%A4%A', '-1', '0', '1e3', '2147483648', '99999999999999999999', '1.5', '%20').map((value) => ({ kind: 'raw' as const, value, encoded: true })) },
);

type Csrf = 'valid' | 'missing' | 'wrong' | 'array' | 'header' | 'other' | 'empty';
const csrfMode = fc.constantFrom<Csrf>('valid', 'valid', 'valid', 'missing', 'wrong', 'array', 'header', 'other', 'empty');
type Encoding = 'form' | 'json' | 'bad-json' | 'text' | 'multipart' | 'none' | 'charset';
const encoding = fc.constantFrom<Encoding>('form', 'form', 'form', 'form', 'json', 'json', 'bad-json', 'text', 'multipart', 'none', 'charset');
const origin = fc.constantFrom<'none' | 'same' | 'evil' | 'null'>('none', 'none', 'same', 'same', 'evil', 'null');

const httpCase = fc.record({
  persona: fc.constantFrom(...PERSONAS),
  method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'GET', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
  route: fc.integer({ min: 0, max: 100 }),
  id: pathId,
  action: fc.oneof(fc.constantFrom('deactivate', 'activate', 'grant-admin', 'remove-admin'), fieldValue),
  fields: fc.dictionary(fc.constantFrom('username', 'password', 'confirm', 'next', 'from', 'currentPassword', 'newPassword', 'mode', 'level', 'playAs', 'ply', 'cell', 'back', '_csrf', 'extra', '__proto__', 'constructor'), field, { maxKeys: 6 }),
  dropExpected: fc.boolean(),
  query: fc.dictionary(fc.constantFrom(...QUERY_KEYS), fieldValue, { maxKeys: 3 }),
  csrf: csrfMode,
  encoding,
  origin,
});

// ---- WebSocket frames ------------------------------------------------------------------------

const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  fieldValue,
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -1, 1e308, -0, 0.5, 9, 10, 2 ** 31, 2 ** 53),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);
const frameType = fc.constantFrom('subscribe', 'subscribe-lobby', 'move', 'resign', 'rematch', 'claim', 'ping', 'state', 'ack', '', 'MOVE', '__proto__', 'constructor');
type Frame = { kind: 'text'; data: string } | { kind: 'binary'; data: Buffer } | { kind: 'message'; message: Record<string, unknown>; gameFixture: number | null };
const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 6, arbitrary: fc
    .record({
      type: fc.oneof({ weight: 5, arbitrary: frameType }, { weight: 1, arbitrary: jsonish }),
      id: fc.option(fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), jsonish, fc.constant('x'.repeat(41))), { nil: undefined }),
      game: fc.option(jsonish, { nil: undefined }),
      gameFixture: fc.option(fc.integer({ min: 0, max: 7 }), { nil: null }),
      ply: fc.option(jsonish, { nil: undefined }),
      cell: fc.option(jsonish, { nil: undefined }),
      version: fc.option(jsonish, { nil: undefined }),
      extra: fc.option(jsonish, { nil: undefined }),
    })
    .map(({ gameFixture, ...rest }) => ({ kind: 'message' as const, message: Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)), gameFixture })) },
  { weight: 2, arbitrary: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('{', '{"type":', '[]', 'null', '1', '"move"', '{"type":"move"}', '{"__proto__":{"type":"move"}}', '[' .repeat(1500), '{"a":'.repeat(500))).map((data) => ({ kind: 'text' as const, data })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ kind: 'binary' as const, data: Buffer.from(bytes) })) },
  { weight: 1, arbitrary: fc.integer({ min: 4_000, max: 9_000 }).map((n) => ({ kind: 'text' as const, data: JSON.stringify({ type: 'move', id: 'big', game: 'A'.repeat(n) }) })) },
);

// ---- The test --------------------------------------------------------------------------------

describe.each(databaseKinds)('fuzzing every route and the WebSocket on the %s database', (kind) => {
  let t: TestApp;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const cookies = {} as Record<Persona, string>;
  const tokens = {} as Record<Persona, string>;
  const userIds = {} as Record<Exclude<Persona, 'visitor'>, number>;
  const usernames = {} as Record<Exclude<Persona, 'visitor'>, string>;
  let victimId = 0;
  /** Games in every state: waiting, active (O to move), finished, against the computer, aborted… */
  let fixtures: string[] = [];
  const stats = { http: 0, ws: 0, refused: 0, accepted: 0, byStatus: new Map<number, number>(), frames: new Map<string, number>() };

  function send(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Reply> {
    const url = new URL(t.url);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, method, path, agent, headers: { ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}), ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  const cookieOf = (reply: Reply) => ((reply.headers['set-cookie'] as string[] | undefined) ?? []).find((c) => c.startsWith('ttt.sid='))?.split(';')[0];

  /** A persona's session (new or logged in again) and its CSRF token. */
  async function establish(persona: Persona) {
    const page = await send('GET', '/login');
    let cookie = cookieOf(page)!;
    if (persona !== 'visitor') {
      const login = await send(
        'POST',
        '/login',
        { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
        new URLSearchParams({ _csrf: csrfTokenIn(page.text), username: usernames[persona], password: GOOD_PASSWORD }).toString(),
      );
      if (login.status !== 303) throw new Error(`${persona} could not log in again: ${login.status}`);
      cookie = cookieOf(login)!;
      const account = await send('GET', '/account', { Cookie: cookie });
      tokens[persona] = csrfTokenIn(account.text);
    } else tokens[persona] = csrfTokenIn(page.text);
    cookies[persona] = cookie;
  }

  async function makeFixtures() {
    const deps = t.gameDeps;
    const friend = () => createGame(deps, userIds.x, { mode: 'friend', level: 'perfect', playAs: 'X' });
    const waiting = await friend();
    const active = await friend();
    await joinGame(deps, userIds.o, active);
    await makeMove(deps, userIds.x, active, 0, 4);
    const finished = await friend();
    await joinGame(deps, userIds.o, finished);
    await resign(deps, userIds.o, finished);
    const computer = await createGame(deps, userIds.x, { mode: 'ai', level: 'easy', playAs: 'X' });
    const open = await createGame(deps, userIds.o, { mode: 'open', level: 'perfect', playAs: 'O' });
    const aborted = await friend();
    await resign(deps, userIds.x, aborted);
    const freshActive = await friend();
    await joinGame(deps, userIds.o, freshActive);
    fixtures = [waiting, active, finished, computer, open, aborted, freshActive, 'AAAAAAAAAAAA'];
  }

  beforeAll(async () => {
    // Production mode, as deployed: templates compiled once (and the fuzz runs faster for it).
    t = await startTestApp(kind, { listen: true, env: { NODE_ENV: 'production' } });
    for (const persona of ['x', 'o', 'outsider', 'admin', 'victim'] as const) {
      const page = await send('GET', '/register');
      const username = uniqueName(`fz${persona}`);
      const res = await send(
        'POST',
        '/register',
        { Cookie: cookieOf(page)!, 'Content-Type': 'application/x-www-form-urlencoded' },
        new URLSearchParams({ _csrf: csrfTokenIn(page.text), username, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD }).toString(),
      );
      expect(res.status).toBe(303);
      const id = (await t.db.pool.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [username])).rows[0]!.id;
      if (persona === 'victim') victimId = id;
      else {
        userIds[persona] = id;
        usernames[persona] = username;
      }
    }
    await t.db.pool.query('UPDATE users SET is_admin = true WHERE id = $1', [userIds.admin]);
    for (const persona of PERSONAS) await establish(persona);
    await makeFixtures();
  }, 60_000);

  afterAll(async () => {
    agent.destroy();
    console.info(
      `fuzz (${kind}): ${stats.http} HTTP cases (${stats.refused} refused, ${stats.accepted} accepted; statuses ${[...stats.byStatus.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([s, n]) => `${s}×${n}`)
        .join(' ')}), ${stats.ws} WebSocket frames (${[...stats.frames.entries()].map(([k, n]) => `${k}×${n}`).join(' ')})`,
    );
    await t?.close();
  });

  type HttpCase = typeof httpCase extends fc.Arbitrary<infer T> ? T : never;

  function encodePart(value: string) {
    return encodeURIComponent(value);
  }

  function idValue(choice: IdChoice): string {
    if (choice.kind === 'fixture') return fixtures[choice.which]!;
    return (choice as { encoded?: boolean }).encoded ? choice.value : encodePart(choice.value);
  }

  /** Builds the request for one generated case. */
  function build(c: HttpCase) {
    const isPost = c.method === 'POST';
    const routes = isPost ? Object.keys(ROUTE_FIELDS) : GET_ROUTES;
    const template = routes[c.route % routes.length]!;
    let path = template.replace(':id', idValue(c.id)).replace(':username', c.id.kind === 'fixture' ? usernames.x : idValue(c.id));
    if (template.startsWith('/admin/users/')) {
      // Admin actions target the victim, the admin itself, or a bad id; never the other personas.
      const target = c.id.kind === 'fixture' ? [victimId, userIds.admin, 0, -1, 2 ** 31, victimId, victimId, 999_999][c.id.which]! : idValue(c.id);
      path = `/admin/users/${target}/${encodePart(c.action)}`;
    }
    const query = new URLSearchParams(Object.entries(c.query)).toString();
    if (query) path += `?${query}`;

    // Fields: the route's own (unless dropped), then the generated ones on top.
    const pairs: [string, string][] = [];
    const expected = ROUTE_FIELDS[template] ?? [];
    for (const name of expected) if (!(c.dropExpected && name.length % 2 === 0) && !(name in c.fields)) pairs.push([name, USEFUL[name.length % USEFUL.length]!]);
    for (const [name, f] of Object.entries(c.fields)) {
      if (f.kind === 'value') pairs.push([name, f.value]);
      else if (f.kind === 'array') for (const v of f.values) pairs.push([name, v]);
      else pairs.push([`${name}[${f.key}]`, f.value]);
    }
    const token = tokens[c.persona];
    const headers: Record<string, string> = { Accept: 'text/html' };
    if (cookies[c.persona]) headers.Cookie = cookies[c.persona];
    if (c.csrf === 'valid') pairs.unshift(['_csrf', token]);
    else if (c.csrf === 'wrong') pairs.unshift(['_csrf', `${token.slice(0, -2)}xx`]);
    else if (c.csrf === 'array') pairs.unshift(['_csrf', token], ['_csrf', token]);
    else if (c.csrf === 'header') headers['X-CSRF-Token'] = token;
    else if (c.csrf === 'other') pairs.unshift(['_csrf', tokens[c.persona === 'x' ? 'o' : 'x']]);
    else if (c.csrf === 'empty') pairs.unshift(['_csrf', '']);
    if (c.origin === 'same') headers.Origin = t.url;
    else if (c.origin === 'evil') headers.Origin = 'https://evil.example';
    else if (c.origin === 'null') headers.Origin = 'null';

    let body: string | undefined;
    if (c.method !== 'GET' && c.method !== 'HEAD' && c.method !== 'OPTIONS') {
      switch (c.encoding) {
        case 'form':
          headers['Content-Type'] = 'application/x-www-form-urlencoded';
          body = pairs.map(([k, v]) => `${encodePart(k)}=${encodePart(v)}`).join('&');
          break;
        case 'charset':
          headers['Content-Type'] = 'application/x-www-form-urlencoded; charset=utf-7';
          body = pairs.map(([k, v]) => `${encodePart(k)}=${encodePart(v)}`).join('&');
          break;
        case 'json': {
          headers['Content-Type'] = 'application/json';
          const object: Record<string, unknown> = {};
          for (const [k, v] of pairs) object[k] = k in object ? [object[k], v].flat() : v;
          body = JSON.stringify(object);
          break;
        }
        case 'bad-json':
          headers['Content-Type'] = 'application/json';
          body = `{"_csrf": "${token}", ${pairs.map(([k]) => k).join(',')}`;
          break;
        case 'text':
          headers['Content-Type'] = 'text/plain';
          body = pairs.map(([k, v]) => `${k}=${v}`).join('\n');
          break;
        case 'multipart':
          headers['Content-Type'] = 'multipart/form-data; boundary=XYZ';
          body = `--XYZ\r\n${pairs.map(([k, v]) => `Content-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n--XYZ`).join('\r\n')}--\r\n`;
          break;
        case 'none':
          break;
      }
    }
    return { method: c.method, path, headers, body, template };
  }

  /** A redirect to the login page, a 4xx, or an OPTIONS/HEAD answer without a change: refused. */
  function isRefusal(reply: Reply) {
    if (reply.status >= 400) return true;
    return reply.status === 303 && String(reply.headers.location ?? '').startsWith('/login?next=');
  }

  it('never answers 5xx, and a refused request changes nothing', { timeout: 180_000 }, async () => {
    // The state is read at checkpoints rather than after every case: before any request that could
    // be accepted (a POST with a usable token from this site), and at the end of each batch. Every
    // case since the last checkpoint was refused, so the state must be exactly as it was there.
    let before = await digest(t.db.pool);
    let since: string[] = [];
    const checkpoint = async () => {
      const now = await digest(t.db.pool);
      if (now !== before) throw new Error(`a refused request changed the state:\n${before}\n${now}\nrequests since the last check:\n${since.join('\n')}`);
      since = [];
    };
    let sinceFixtures = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(fc.array(httpCase, { minLength: HTTP_BATCH, maxLength: HTTP_BATCH }), async (cases) => {
        if ((sinceFixtures += cases.length) >= 500) {
          sinceFixtures = 0;
          await makeFixtures();
          before = await digest(t.db.pool);
        }
        for (const c of cases) {
          const request = build(c);
          // Logging out without a session needs no token (there is nothing to protect).
          const usable =
            c.method === 'POST' && (c.origin === 'none' || c.origin === 'same') && (c.csrf === 'valid' || c.csrf === 'header' || request.template === '/logout');
          if (usable) await checkpoint();
          const reply = await send(request.method, request.path, request.headers, request.body);
          stats.http += 1;
          stats.byStatus.set(reply.status, (stats.byStatus.get(reply.status) ?? 0) + 1);
          const what = `${request.method} ${request.path.slice(0, 200)} as ${c.persona} (${c.encoding}, csrf ${c.csrf}, origin ${c.origin}) → ${reply.status}; body ${String(request.body).slice(0, 200)}`;
          if (reply.status >= 500) throw new Error(`${what}: ${reply.text.slice(0, 500)}`);
          // A POST without a usable token may be answered with a redirect (a stale form leads back
          // to a page, see staleForms), but it must change nothing: the next checkpoint says so.
          if (isRefusal(reply) || c.method !== 'POST' || !usable) {
            stats.refused += isRefusal(reply) || c.method === 'POST' ? 1 : 0;
            since.push(what);
            continue;
          }
          stats.accepted += 1;
          // An accepted post may have logged the persona out, in, or elsewhere: start it afresh.
          await establish(c.persona);
          before = await digest(t.db.pool);
          since = [];
        }
        await checkpoint();
      }),
      { numRuns: Math.ceil(HTTP_CASES / HTTP_BATCH), seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
    );
    const used = process.cpuUsage(cpu);
    console.info(`fuzz (${kind}) HTTP: ${((performance.now() - started) / stats.http).toFixed(1)} ms a case, ${((used.user + used.system) / 1000 / stats.http).toFixed(1)} ms of this process's CPU`);
    // Still up and serving.
    expect((await send('GET', '/healthz')).text).toBe('ok');
    expect((await send('GET', '/readyz')).status).toBe(200);
  });

  /** Opens /ws as a persona; resolves with the socket and everything it receives. */
  async function openAs(persona: Exclude<Persona, 'visitor'>) {
    const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/ws`, { headers: { Cookie: cookies[persona], Origin: t.url } });
    const received: { type: string; code?: string; id?: unknown }[] = [];
    let closeCode: number | null = null;
    let last = Date.now();
    ws.on('message', (data) => {
      received.push(JSON.parse(String(data)) as { type: string });
      last = Date.now();
    });
    ws.on('close', (code) => (closeCode = code));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return { ws, received, closeCode: () => closeCode, idleFor: () => Date.now() - last };
  }

  async function settle(socket: Awaited<ReturnType<typeof openAs>>, sentinel: string) {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const done = socket.closeCode() !== null || socket.received.some((m) => m.id === sentinel);
      if (done && socket.idleFor() > 25) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`the socket did not answer the sentinel: ${JSON.stringify(socket.received.slice(-5))}`);
  }

  it('answers random WebSocket frames without a server error, and refused frames change nothing', { timeout: 120_000 }, async () => {
    await makeFixtures();
    const personas = ['x', 'o', 'outsider', 'admin'] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...personas), fc.array(frame, { minLength: 12, maxLength: FRAMES_PER_BATCH }), async (persona, frames) => {
        const before = await digest(t.db.pool);
        const socket = await openAs(persona);
        const sent: Record<string, unknown>[] = [];
        for (const f of frames) {
          if (socket.ws.readyState !== WebSocket.OPEN) break;
          stats.ws += 1;
          stats.frames.set(f.kind, (stats.frames.get(f.kind) ?? 0) + 1);
          if (f.kind === 'binary') socket.ws.send(f.data, { binary: true });
          else if (f.kind === 'text') socket.ws.send(f.data);
          else {
            const message = { ...f.message };
            if (f.gameFixture !== null && message.game === undefined) message.game = fixtures[f.gameFixture];
            sent.push(message);
            socket.ws.send(JSON.stringify(message));
          }
        }
        const sentinel = `sentinel-${stats.ws}`;
        if (socket.ws.readyState === WebSocket.OPEN) socket.ws.send(JSON.stringify({ type: 'resign', id: sentinel, game: 'AAAAAAAAAAAA' }));
        await settle(socket, sentinel);
        const errors = socket.received.filter((m) => m.type === 'error' && m.code === 'server_error');
        if (errors.length) throw new Error(`server_error frames: ${JSON.stringify(errors)}`);
        const code = socket.closeCode();
        // 1008: too many messages; 1009: a frame over the size limit. Anything else is a fault.
        if (code !== null && code !== 1008 && code !== 1009) throw new Error(`socket closed with ${code}`);
        // Accepted: acknowledged, or (when the socket was closed before the answer could arrive)
        // a frame the protocol accepts as an action. A frame the schema refuses can never count.
        const accepted =
          socket.received.some((m) => m.type === 'ack') ||
          (code !== null && sent.some((m) => typeof m.type === 'string' && ['move', 'resign', 'claim', 'rematch'].includes(m.type) && clientMessageSchema.safeParse(m).success));
        const after = await digest(t.db.pool);
        if (!accepted && after !== before) throw new Error(`refused frames changed the state: ${JSON.stringify(frames).slice(0, 500)}`);
        socket.ws.terminate();
      }),
      { numRuns: WS_BATCHES, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
    );

    // A flood: far past the rate limit, then cut off with 1008; nothing changes, the server stays up.
    const before = await digest(t.db.pool);
    const flood = await openAs('outsider');
    for (let i = 0; i < 300 && flood.ws.readyState === WebSocket.OPEN; i++) {
      flood.ws.send(JSON.stringify({ type: 'move', id: `f${i}`, game: fixtures[1], ply: 1, cell: i % 9 }));
      stats.ws += 1;
    }
    await new Promise<void>((resolve) => (flood.closeCode() !== null ? resolve() : flood.ws.once('close', () => resolve())));
    expect(flood.closeCode()).toBe(1008);
    expect(flood.received.some((m) => m.code === 'rate_limited')).toBe(true);
    expect(await digest(t.db.pool)).toBe(before);
    expect(stats.http + stats.ws).toBeGreaterThanOrEqual(10_000);
    const healthy = await openAs('x');
    healthy.ws.send(JSON.stringify({ type: 'subscribe', game: fixtures[1] }));
    await expect.poll(() => healthy.received.some((m) => m.type === 'state')).toBe(true);
    healthy.ws.terminate();
  });
});
