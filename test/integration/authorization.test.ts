/**
 * The authorization matrix, from the route table itself: every route of src/app.ts is listed here
 * with who may use it, and every person who may not is refused with nothing changed (accounts,
 * games, moves, admin log). A route added to the app without a row here fails the first test.
 *
 * Every refused request carries a valid CSRF token of its own session, so what refuses it is the
 * authorization check, not the CSRF check.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/game/ai.js';
import { CLAIM_AFTER_MS } from '../../src/game/presence.js';
import { createGame, joinGame, makeMove, resign } from '../../src/game/service.js';
import { setPresence } from '../../src/game/store.js';
import { csrfTokenIn, GOOD_PASSWORD, registerUser, startTestApp, type Agent, type TestApp } from '../helpers/app.js';
import { databaseKinds } from '../helpers/database.js';
import { snapshot } from '../helpers/snapshot.js';

type Persona = 'visitor' | 'outsider' | 'player' | 'admin';

/** Who may use a route: anyone, any signed-in user, a player of the game, or an admin. */
type Access = 'public' | 'user' | 'player' | 'admin';

/** The route table of src/app.ts, with its access rule. */
const ROUTES: Record<string, Access> = {
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /': 'public',
  'GET /lobby/lists': 'user',
  'GET /login': 'public',
  'POST /login': 'public',
  'GET /register': 'public',
  'POST /register': 'public',
  'GET /logout': 'public',
  'POST /logout': 'public',
  'GET /account': 'user',
  'POST /account/password': 'user',
  'POST /account/sessions': 'user',
  'POST /account/delete': 'user',
  'POST /account/email': 'user',
  // The token in the link is what grants these: anyone holding it may use it.
  'GET /account/email/confirm/:token': 'public',
  'POST /account/email/confirm': 'public',
  'GET /forgot': 'public',
  'POST /forgot': 'public',
  'GET /reset/:token': 'public',
  'GET /reset': 'public',
  'POST /reset': 'public',
  'GET /users/:username': 'public',
  'GET /leaderboard': 'public',
  'GET /admin/users': 'admin',
  'POST /admin/users/:id/:action': 'admin',
  'POST /games': 'user',
  'GET /games/:id': 'public',
  'GET /games/:id/hint': 'player',
  'POST /games/:id/join': 'user',
  'POST /games/:id/moves': 'player',
  'POST /games/:id/resign': 'player',
  'POST /games/:id/claim': 'player',
  'POST /games/:id/rematch': 'player',
};

/** What the app's router holds, as "METHOD /path" (HEAD is implied by GET). */
function routeTable(app: TestApp['app']): string[] {
  const stack = (app as unknown as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router.stack;
  return stack
    .filter((layer) => layer.route)
    .flatMap((layer) => Object.keys(layer.route!.methods).filter((m) => m !== '_all').map((m) => `${m.toUpperCase()} ${layer.route!.path}`));
}

describe.each(databaseKinds)('authorization on the %s database', (kind) => {
  let t: TestApp;
  let now = Date.parse('2026-02-01T09:00:00Z');
  const agents = {} as Record<Persona, Agent>;
  const ids = {} as Record<Exclude<Persona, 'visitor'>, number>;
  const names = {} as Record<Exclude<Persona, 'visitor'>, string>;
  /** A victim account that admin actions would target. */
  let victimId = 0;
  const games = { waiting: '', active: '', claimable: '', finished: '', computer: '' };

  beforeAll(async () => {
    t = await startTestApp(kind, { clock: () => now, random: mulberry32(3) });
    for (const persona of ['outsider', 'player', 'admin'] as const) {
      const agent = request.agent(t.app);
      const { username } = await registerUser(agent);
      agents[persona] = agent;
      names[persona] = username;
      ids[persona] = (await t.db.pool.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [username])).rows[0]!.id;
    }
    await t.db.pool.query('UPDATE users SET is_admin = true WHERE id = $1', [ids.admin]);
    const victim = await registerUser(request.agent(t.app));
    victimId = (await t.db.pool.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [victim.username])).rows[0]!.id;
    agents.visitor = request.agent(t.app);
    await agents.visitor.get('/login'); // a visitor's session, with a CSRF token

    // The games the player (X) plays against the victim (O), in every state an action needs.
    const deps = t.gameDeps;
    const friend = () => createGame(deps, ids.player, { mode: 'friend', level: 'perfect', playAs: 'X' });
    games.waiting = await friend();
    games.active = await friend();
    await joinGame(deps, victimId, games.active);
    await makeMove(deps, ids.player, games.active, 0, 4);
    games.claimable = await friend();
    await joinGame(deps, victimId, games.claimable);
    await makeMove(deps, ids.player, games.claimable, 0, 4);
    await setPresence(t.db.pool, 'test', games.claimable, victimId, 0, now);
    now += CLAIM_AFTER_MS + 1_000;
    await setPresence(t.db.pool, 'test', games.claimable, ids.player, 1, now);
    games.finished = await friend();
    await joinGame(deps, victimId, games.finished);
    await resign(deps, victimId, games.finished);
    games.computer = await createGame(deps, ids.player, { mode: 'ai', level: 'easy', playAs: 'X' });
  });

  afterAll(async () => {
    await t?.close();
  });

  const tokens = new Map<Persona, string>();
  async function token(persona: Persona) {
    if (!tokens.has(persona)) tokens.set(persona, csrfTokenIn((await agents[persona].get(persona === 'visitor' ? '/login' : '/account')).text));
    return tokens.get(persona)!;
  }

  it('has a row here for every route of the app, and no row for a route it does not have', () => {
    expect(routeTable(t.app).sort()).toEqual(Object.keys(ROUTES).sort());
  });

  interface Attempt {
    route: string;
    persona: Persona;
    path: string;
    fields?: Record<string, string>;
    /** Statuses that mean "refused" for this attempt (303 only when it leads to the login page). */
    refused: number[];
  }

  /** Every attempt someone without the right makes, for every guarded route. */
  function attempts(): Attempt[] {
    const list: Attempt[] = [];
    const add = (route: string, persona: Persona, path: string, refused: number[], fields?: Record<string, string>) =>
      list.push({ route, persona, path, refused, ...(fields ? { fields } : {}) });
    // Signed-in pages and account actions: visitors are sent to log in.
    add('GET /lobby/lists', 'visitor', '/lobby/lists', [303]);
    add('GET /account', 'visitor', '/account', [303]);
    add('POST /account/password', 'visitor', '/account/password', [303], { currentPassword: GOOD_PASSWORD, newPassword: 'a brand new secret', confirm: 'a brand new secret' });
    add('POST /account/sessions', 'visitor', '/account/sessions', [303]);
    add('POST /account/delete', 'visitor', '/account/delete', [303], { password: GOOD_PASSWORD });
    add('POST /account/email', 'visitor', '/account/email', [303], { email: 'someone@example.test', password: GOOD_PASSWORD });
    add('POST /games', 'visitor', '/games', [303], { mode: 'ai', level: 'easy', playAs: 'X' });
    // Another user's account cannot be acted on with that user's password: only one's own.
    add('POST /account/password', 'outsider', '/account/password', [422], { currentPassword: 'the-victims-password', newPassword: 'a brand new secret', confirm: 'a brand new secret' });
    add('POST /account/delete', 'outsider', '/account/delete', [422], { password: 'the-victims-password' });
    // Admin pages and actions: everyone but an admin, on every action, on another account and their own.
    for (const persona of ['visitor', 'outsider', 'player'] as const) {
      add('GET /admin/users', persona, '/admin/users', [403]);
      add('GET /admin/users', persona, '/admin/users?q=a', [403]);
      for (const action of ['deactivate', 'activate', 'grant-admin', 'remove-admin', 'no-such-action']) {
        add('POST /admin/users/:id/:action', persona, `/admin/users/${victimId}/${action}`, [403]);
        if (persona !== 'visitor') add('POST /admin/users/:id/:action', persona, `/admin/users/${ids[persona]}/${action}`, [403]);
      }
    }
    // Game actions by someone who does not play the game, and by a visitor.
    for (const persona of ['visitor', 'outsider', 'admin'] as const) {
      const login = persona === 'visitor' ? [303] : [];
      add('GET /games/:id/hint', persona, `/games/${games.computer}/hint`, [...login, 403]);
      add('POST /games/:id/moves', persona, `/games/${games.active}/moves`, [...login, 403], { ply: '1', cell: '0' });
      add('POST /games/:id/moves', persona, `/games/${games.computer}/moves`, [...login, 403], { ply: String(0), cell: '0' });
      add('POST /games/:id/resign', persona, `/games/${games.active}/resign`, [...login, 403]);
      add('POST /games/:id/resign', persona, `/games/${games.waiting}/resign`, [...login, 403]);
      add('POST /games/:id/claim', persona, `/games/${games.claimable}/claim`, [...login, 403]);
      add('POST /games/:id/rematch', persona, `/games/${games.finished}/rematch`, [...login, 403]);
      add('POST /games/:id/rematch', persona, `/games/${games.computer}/rematch`, [...login, 403, 409]);
      // Joining is how a signed-in user becomes a player, so it is refused only for a full game.
      add('POST /games/:id/join', persona, `/games/${games.active}/join`, [...login, 409]);
      add('POST /games/:id/join', persona, `/games/${games.computer}/join`, [...login, 409]);
    }
    add('POST /games/:id/join', 'visitor', `/games/${games.waiting}/join`, [303]);
    return list;
  }

  it('refuses everyone without the right on every guarded route, and changes nothing', { timeout: 60_000 }, async () => {
    const list = attempts();
    // Every route that is not public has at least one refused attempt.
    const covered = new Set(list.map((a) => a.route));
    for (const [route, access] of Object.entries(ROUTES)) if (access !== 'public') expect(covered, route).toContain(route);

    const before = await snapshot(t.db.pool);
    const outcomes: string[] = [];
    for (const attempt of list) {
      const agent = agents[attempt.persona];
      const res = attempt.route.startsWith('GET ')
        ? await agent.get(attempt.path)
        : await agent
            .post(attempt.path)
            .type('form')
            .send({ _csrf: await token(attempt.persona), ...attempt.fields });
      const what = `${attempt.persona} ${attempt.route.split(' ')[0]} ${attempt.path}`;
      outcomes.push(`${what} → ${res.status}`);
      expect(attempt.refused, `${what} answered ${res.status}: ${res.text.slice(0, 300)}`).toContain(res.status);
      if (res.status === 303) expect(String(res.headers.location), what).toMatch(/^\/login\?next=/);
      if (res.status === 403 && attempt.route.startsWith('POST')) expect(res.text, what).not.toContain('This form has expired');
      expect(await snapshot(t.db.pool), `${what} changed something`).toEqual(before);
    }
    // Everyone who was refused is still who they were: no session was ended by a refusal.
    for (const persona of ['outsider', 'player', 'admin'] as const) expect((await agents[persona].get('/account')).status).toBe(200);
    expect(outcomes.length).toBeGreaterThan(60);
  });

  it('lets visitors use the public pages without changing anything', { timeout: 60_000 }, async () => {
    const before = await snapshot(t.db.pool);
    for (const path of ['/', '/login', '/register', `/users/${names.player}`, '/leaderboard', `/games/${games.active}`, `/games/${games.finished}?ply=1`]) {
      expect((await agents.visitor.get(path)).status, path).toBe(200);
    }
    expect((await agents.visitor.get('/logout')).status).toBe(303);
    // Logging out without a session, and a failed login, change nothing either.
    expect((await agents.visitor.post('/logout').type('form').send({ _csrf: await token('visitor') })).status).toBe(303);
    await agents.visitor.get('/login');
    tokens.delete('visitor');
    const failed = await agents.visitor.post('/login').type('form').send({ _csrf: await token('visitor'), username: names.player, password: 'not the password' });
    expect(failed.status).toBe(401);
    expect(await snapshot(t.db.pool)).toEqual(before);
  });

  it('lets the admin, and only the admin, act on an account (the control row)', { timeout: 60_000 }, async () => {
    const res = await agents.admin
      .post(`/admin/users/${victimId}/deactivate`)
      .type('form')
      .send({ _csrf: await token('admin') });
    expect(res.status).toBe(303);
    const { rows } = await t.db.pool.query<{ active: boolean }>('SELECT is_active AS active FROM users WHERE id = $1', [victimId]);
    expect(rows[0]!.active).toBe(false);
  });
});
