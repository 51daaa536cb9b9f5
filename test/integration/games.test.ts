import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/game/ai.js';
import { WAITING_EXPIRES_MS } from '../../src/game/model.js';
import { CLAIM_AFTER_MS } from '../../src/game/presence.js';
import {
  claimVictory,
  createGame,
  expireWaitingGames,
  GameError,
  joinGame,
  loadGame,
  makeMove,
  rematch,
  resign,
} from '../../src/game/service.js';
import { endStalePresence, PRESENCE_STALE_MS, refreshPresence, setPresence } from '../../src/game/store.js';
import { csrfTokenIn, GOOD_PASSWORD, registerUser, startTestApp, uniqueName, type Agent, type TestApp } from '../helpers/app.js';
import { databaseKinds } from '../helpers/database.js';

describe.each(databaseKinds)('games on the %s database', (kind) => {
  let t: TestApp;
  let now = Date.parse('2026-01-01T12:00:00Z');
  const agents = new Map<number, Agent>();

  beforeAll(async () => {
    t = await startTestApp(kind, { clock: () => now, random: mulberry32(7) });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A registered, signed-in player: its id and a browser-like agent. */
  async function player() {
    const agent = request.agent(t.app);
    const { username } = await registerUser(agent);
    const { rows } = await t.db.pool.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [username]);
    const id = rows[0]!.id;
    agents.set(id, agent);
    return { id, username, agent };
  }

  const deps = () => t.gameDeps;
  const state = async (id: string) => (await loadGame(deps(), id))!;
  const refusal = async (promise: Promise<unknown>) => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'the action should have been refused').toBeInstanceOf(Error);
    return err as GameError;
  };

  /** A friend game between two fresh players, joined, with X to move. */
  async function startedGame() {
    const x = await player();
    const o = await player();
    const id = await createGame(deps(), x.id, { mode: 'friend', level: 'perfect', playAs: 'X' });
    await joinGame(deps(), o.id, id);
    return { id, x, o };
  }

  async function playCells(id: string, x: number, o: number, cells: number[]) {
    for (const cell of cells) {
      const g = await state(id);
      await makeMove(deps(), g.ply % 2 === 0 ? x : o, id, g.ply, cell);
    }
  }

  describe('creating games', () => {
    it('creates a game against the computer that answers in the same request', async () => {
      const p = await player();
      const page = await p.agent.get('/');
      const res = await p.agent
        .post('/games')
        .type('form')
        .send({ _csrf: csrfTokenIn(page.text), mode: 'ai', level: 'perfect', playAs: 'X' });
      expect(res.status).toBe(303);
      const id = String(res.headers.location).split('/').pop()!;
      expect(id).toMatch(/^[A-Za-z0-9]{12}$/);
      let g = await state(id);
      expect(g.status).toBe('active');
      expect(g.players.O?.name).toBe('Computer (Perfect)');

      const game = await p.agent.get(`/games/${id}`);
      const move = await p.agent.post(`/games/${id}/moves`).type('form').send({ _csrf: csrfTokenIn(game.text), ply: '0', cell: '4' });
      expect(move.status).toBe(303);
      g = await state(id);
      expect(g.ply).toBe(2);
      expect(g.moves[0]).toBe(4);
      expect(g.board.replaceAll('.', '')).toHaveLength(2);
    });

    it('lets the computer open when the player takes O', async () => {
      const p = await player();
      const id = await createGame(deps(), p.id, { mode: 'ai', level: 'easy', playAs: 'O' });
      const g = await state(id);
      expect(g.players.X?.name).toBe('Computer (Easy)');
      expect(g.ply).toBe(1);
      expect(g.moves).toHaveLength(1);
    });

    it('picks X or O fairly for Play as Random', async () => {
      const p = await player();
      const marks = { X: 0, O: 0 };
      for (let i = 0; i < 40; i++) {
        const g = await state(await createGame(deps(), p.id, { mode: 'open', level: 'perfect', playAs: 'random' }));
        marks[g.players.X?.id === p.id ? 'X' : 'O'] += 1;
      }
      expect(marks.X).toBeGreaterThan(8);
      expect(marks.O).toBeGreaterThan(8);
    });

    it('shows a friend game with its invite link, and the board with the names of the UI contract', async () => {
      const p = await player();
      const page = await p.agent.get('/');
      const res = await p.agent.post('/games').type('form').send({ _csrf: csrfTokenIn(page.text), mode: 'friend', playAs: 'X' });
      const id = String(res.headers.location).split('/').pop()!;
      const html = (await p.agent.get(`/games/${id}`)).text;
      expect(html).toMatch(/role="grid" aria-label="Board"/);
      expect(html.match(/role="row"/g)).toHaveLength(3);
      expect(html.match(/role="gridcell"/g)).toHaveLength(9);
      expect(html).toMatch(/data-cell="0"[^>]*aria-label="Row 1, column 1, empty"/);
      expect(html).toMatch(/data-status="waiting"/);
      expect(html).toMatch(/<label for="invite-link">Invite link<\/label>/);
      expect(html).toContain(`/games/${id}"`);
      expect(html).toMatch(/id="copy-invite">Copy</);
      expect(html).toMatch(/<ol class="moves" id="moves" aria-label="Moves">/);
    });

    it('refuses an unknown kind of game with a 400 and a message', async () => {
      const p = await player();
      const page = await p.agent.get('/');
      const res = await p.agent.post('/games').type('form').send({ _csrf: csrfTokenIn(page.text), mode: 'chess' });
      expect(res.status).toBe(400);
      expect(res.text).toContain('Choose how to play.');
    });
  });

  describe('joining', () => {
    it('seats the first visitor; the next one is refused and watches', async () => {
      const x = await player();
      const o = await player();
      const late = await player();
      const id = await createGame(deps(), x.id, { mode: 'open', level: 'perfect', playAs: 'X' });

      const joinPage = await o.agent.get(`/games/${id}`);
      expect(joinPage.text).toMatch(/>Join game</);
      const joined = await o.agent.post(`/games/${id}/join`).type('form').send({ _csrf: csrfTokenIn(joinPage.text) });
      expect(joined.status).toBe(303);
      const g = await state(id);
      expect(g.status).toBe('active');
      expect(g.players.O?.id).toBe(o.id);

      const latePage = await late.agent.get(`/games/${id}`);
      const refused = await late.agent.post(`/games/${id}/join`).type('form').send({ _csrf: csrfTokenIn(latePage.text) });
      expect(refused.status).toBe(409);
      expect(refused.text).toContain('Someone else has already joined this game.');
      expect(refused.text).toMatch(/data-status="x-turn"/);
      expect((await state(id)).version).toBe(g.version);
    });

    it('gives the seat to exactly one of two people joining at once', async () => {
      const x = await player();
      const a = await player();
      const b = await player();
      const id = await createGame(deps(), x.id, { mode: 'open', level: 'perfect', playAs: 'O' });
      const results = await Promise.allSettled([joinGame(deps(), a.id, id), joinGame(deps(), b.id, id)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const g = await state(id);
      expect([a.id, b.id]).toContain(g.players.X?.id);
    });

    it('shows a signed-out visitor the game as a spectator with a prompt to log in', async () => {
      const { id } = await startedGame();
      const res = await request(t.app).get(`/games/${id}`);
      expect(res.status).toBe(200);
      expect(res.text).toMatch(/data-status="x-turn"/);
      expect(res.text).toMatch(/Log in<\/a> to play\./);
      // Watching needs no account: the page carries the live script.
      expect(res.text).toMatch(/<script type="module" src="\/static\/js\/game\.js\?v=[0-9a-f]+"><\/script>/);
      expect(res.text).not.toMatch(/data-cell="\d"[^>]*aria-label="[^"]*"\s*>/); // every cell disabled
    });

    it('keeps one role=status on the game page when a visitor registers from it and lands back on it', async () => {
      const { id } = await startedGame();
      const visitor = request.agent(t.app);
      const loginPage = await visitor.get(`/login?next=${encodeURIComponent(`/games/${id}`)}`);
      const username = uniqueName('fromgame');
      const res = await visitor
        .post('/register')
        .type('form')
        .send({ _csrf: csrfTokenIn(loginPage.text), from: 'login', username, password: GOOD_PASSWORD, next: `/games/${id}` });
      expect(res.headers.location).toBe(`/games/${id}`);
      const page = await visitor.get(`/games/${id}`);
      expect(page.text).toContain(`Welcome, ${username}! Your account is ready.`);
      expect(page.text.match(/role="status"/g)).toHaveLength(1);
      expect(page.text).toMatch(/role="status"[^>]*data-status="x-turn"/);
    });

    it('answers 404 for an unknown or malformed game id', async () => {
      expect((await request(t.app).get('/games/AAAAAAAAAAAA')).status).toBe(404);
      expect((await request(t.app).get('/games/..%2F..%2Fetc')).status).toBe(404);
    });
  });

  describe('moves', () => {
    it('refuses each illegal move with its reason and changes nothing', async () => {
      const { id, x, o } = await startedGame();
      const outsider = await player();
      await makeMove(deps(), x.id, id, 0, 4);
      const before = await state(id);

      const cases: [() => Promise<unknown>, string][] = [
        [() => makeMove(deps(), x.id, id, 1, 0), 'not_your_turn'],
        [() => makeMove(deps(), o.id, id, 1, 4), 'occupied'],
        [() => makeMove(deps(), outsider.id, id, 1, 0), 'not_a_player'],
        [() => makeMove(deps(), o.id, id, 0, 0), 'stale'],
        [() => makeMove(deps(), o.id, id, 1, 9), 'out_of_range'],
      ];
      for (const [attempt, code] of cases) {
        expect((await refusal(attempt())).code).toBe(code);
      }
      const after = await state(id);
      expect(after.version).toBe(before.version);
      expect(after.board).toBe(before.board);
      const { rows } = await t.db.pool.query('SELECT count(*)::int AS n FROM moves WHERE game_id = $1', [id]);
      expect(rows[0].n).toBe(1);
    });

    it('refuses a move after the end, and shows the page again with the reason over HTTP', async () => {
      const { id, x, o } = await startedGame();
      await playCells(id, x.id, o.id, [0, 3, 1, 4, 2]);
      const g = await state(id);
      expect(g.status).toBe('finished');
      expect(g.result).toBe('x_won');
      expect(g.reason).toBe('line');
      expect((await refusal(makeMove(deps(), o.id, id, 5, 8))).code).toBe('game_over');

      const page = await o.agent.get(`/games/${id}`);
      expect(page.text).toMatch(/data-status="lost"/);
      expect(page.text).toContain('You lost');
      expect(page.text.match(/data-win/g)).toHaveLength(3);
      const res = await o.agent.post(`/games/${id}/moves`).type('form').send({ _csrf: csrfTokenIn(page.text), ply: '5', cell: '8' });
      expect(res.status).toBe(409);
      expect(res.text).toContain('The game is already over.');
      expect((await state(id)).version).toBe(g.version);
    });

    it('refuses malformed move forms with a 400', async () => {
      const { id, x } = await startedGame();
      const page = await x.agent.get(`/games/${id}`);
      for (const fields of [{ ply: 'zero', cell: '1' }, { ply: '0' }, { ply: '0', cell: '-1' }, { ply: '0', cell: '1e9' }, { ply: '0', cell: '0x4' }, { ply: '0x0', cell: '4' }, { ply: '0', cell: ' 4' }]) {
        const res = await x.agent.post(`/games/${id}/moves`).type('form').send({ _csrf: csrfTokenIn(page.text), ...fields });
        expect(res.status).toBe(400);
      }
      expect((await state(id)).ply).toBe(0);
    });

    it('returns the game after each move exactly as a fresh read shows it (what live updates send without reading)', async () => {
      const { id, x, o } = await startedGame();
      await setPresence(t.db.pool, 'inst', id, x.id, 1, now); // X here, O away: awaySince differs by seat
      const cells = [0, 3, 1, 4, 2]; // X wins along the top row with the last one (which also rates the game)
      let known = await state(id);
      for (const [ply, cell] of cells.entries()) {
        now += 1_000;
        const after = await makeMove(deps(), ply % 2 === 0 ? x.id : o.id, id, ply, cell, known);
        expect(after).toEqual(await state(id));
        known = after;
      }
      expect(known).toMatchObject({ status: 'finished', result: 'x_won', reason: 'line', moves: cells });
      expect(known.awaySince.X).toBeNull();
      expect(known.awaySince.O).not.toBeNull();

      const vsComputer = await player();
      const ai = await createGame(deps(), vsComputer.id, { mode: 'ai', level: 'perfect', playAs: 'X' });
      const afterAi = await makeMove(deps(), vsComputer.id, ai, 0, 4, await state(ai));
      expect(afterAi.ply).toBe(2); // the computer's answer is in it
      expect(afterAi).toEqual(await state(ai));
    });

    it('checks a move against the database, not the caller\'s copy of the game: an outdated copy changes nothing', async () => {
      const { id, x, o } = await startedGame();
      const outdated = await state(id);
      await makeMove(deps(), x.id, id, 0, 4);
      // The copy says ply 0 and X to move; the database is at ply 1.
      expect((await refusal(makeMove(deps(), x.id, id, 0, 0, outdated))).code).toBe('stale');
      // A copy of another game, or from a different ply, is not used at all.
      expect((await makeMove(deps(), o.id, id, 1, 0, outdated)).board).toBe('O...X....');
      const g = await state(id);
      expect(g.ply).toBe(2);
      const { rows } = await t.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM moves WHERE game_id = $1', [id]);
      expect(rows[0]!.n).toBe(2);
    });

    it('lets exactly one of 50 concurrent attempts of the same move through', async () => {
      const { id, x, o } = await startedGame();
      await makeMove(deps(), x.id, id, 0, 0);
      const attempts = Array.from({ length: 50 }, (_, i) => makeMove(deps(), o.id, id, 1, 1 + (i % 8)));
      const results = await Promise.allSettled(attempts);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(['stale', 'occupied']).toContain((r.reason as GameError).code);
      const g = await state(id);
      expect(g.ply).toBe(2);
      const { rows } = await t.db.pool.query<{ ply: number; mark: string }>('SELECT ply, mark FROM moves WHERE game_id = $1 ORDER BY ply', [id]);
      expect(rows.map((r) => `${r.ply}${r.mark}`)).toEqual(['1X', '2O']);
      expect(g.board[0]).toBe('X');
      expect(g.board.match(/O/g)).toHaveLength(1);
      expect(g.board[g.moves[1]!]).toBe('O');
    });
  });

  describe('ending and rematch', () => {
    it('resigns: the opponent wins and both pages say so', async () => {
      const { id, x, o } = await startedGame();
      const page = await x.agent.get(`/games/${id}`);
      const res = await x.agent.post(`/games/${id}/resign`).type('form').send({ _csrf: csrfTokenIn(page.text) });
      expect(res.status).toBe(303);
      const g = await state(id);
      expect(g.result).toBe('o_won');
      expect(g.reason).toBe('resigned');
      expect((await o.agent.get(`/games/${id}`)).text).toMatch(/data-status="won"[^>]*>You won by resignation/);
    });

    it('cancels a game nobody joined yet', async () => {
      const p = await player();
      const id = await createGame(deps(), p.id, { mode: 'friend', level: 'perfect', playAs: 'X' });
      await resign(deps(), p.id, id);
      const g = await state(id);
      expect(g.status).toBe('aborted');
      expect(g.reason).toBe('cancelled');
      // Someone following the invite link afterwards is told so, not that the seat was taken.
      const friend = await player();
      const refused = await refusal(joinGame(deps(), friend.id, id));
      expect(refused.code).toBe('cancelled');
      expect(refused.message).toBe('This game was called off by the person who created it.');
    });

    it('starts a rematch when the other player accepts, colours swapped, once however often it is clicked', async () => {
      const { id, x, o } = await startedGame();
      await resign(deps(), o.id, id);
      expect(await rematch(deps(), x.id, id)).toBeNull();
      expect(await rematch(deps(), x.id, id)).toBeNull(); // offering twice changes nothing
      expect((await state(id)).rematch.offeredBy).toBe(x.id);
      const [first, second] = await Promise.all([rematch(deps(), o.id, id), rematch(deps(), o.id, id)]);
      expect(first).not.toBeNull();
      expect(second).toBe(first);
      const next = await state(first!);
      expect(next.players.X?.id).toBe(o.id);
      expect(next.players.O?.id).toBe(x.id);
      expect(next.status).toBe('active');
      expect((await state(id)).rematch.nextId).toBe(first);
      expect((await refusal(rematch(deps(), x.id, first!))).code).toBe('cannot_rematch');
    });

    it('starts a rematch against the computer at once, with the computer opening when it gets X', async () => {
      const p = await player();
      const id = await createGame(deps(), p.id, { mode: 'ai', level: 'medium', playAs: 'X' });
      await resign(deps(), p.id, id);
      const next = await state((await rematch(deps(), p.id, id))!);
      expect(next.players.O?.id).toBe(p.id);
      expect(next.players.X?.name).toBe('Computer (Medium)');
      expect(next.ply).toBe(1);
    });

    it('lets a player claim victory after the opponent has been away for a minute on their turn', async () => {
      const { id, x, o } = await startedGame();
      await makeMove(deps(), x.id, id, 0, 4);
      // O's socket connects, then drops; X stays.
      await setPresence(t.db.pool, 'inst', id, o.id, 1, now);
      await setPresence(t.db.pool, 'inst', id, x.id, 1, now);
      expect((await refusal(claimVictory(deps(), x.id, id))).code).toBe('cannot_claim');
      await setPresence(t.db.pool, 'inst', id, o.id, 0, now);

      now += CLAIM_AFTER_MS - 5_000;
      await setPresence(t.db.pool, 'inst', id, x.id, 1, now);
      const early = await refusal(claimVictory(deps(), x.id, id));
      expect(early.message).toMatch(/claim victory in 5 s/);
      const page = await x.agent.get(`/games/${id}`);
      expect(page.text).toContain('has left. You can claim victory in 5 s.');
      // O cannot claim against X, who is here.
      expect((await refusal(claimVictory(deps(), o.id, id))).code).toBe('cannot_claim');

      now += 5_000;
      await setPresence(t.db.pool, 'inst', id, x.id, 1, now);
      const ready = await x.agent.get(`/games/${id}`);
      expect(ready.text).toMatch(/data-action="claim">/);
      const res = await x.agent.post(`/games/${id}/claim`).type('form').send({ _csrf: csrfTokenIn(ready.text) });
      expect(res.status).toBe(303);
      const g = await state(id);
      expect(g.result).toBe('x_won');
      expect(g.reason).toBe('abandoned');
    });

    it('refuses a rematch with a player whose account is closed, even one they offered', async () => {
      const { id, x, o } = await startedGame();
      await resign(deps(), x.id, id);
      expect(await rematch(deps(), o.id, id)).toBeNull(); // O offers
      await t.db.pool.query('UPDATE users SET is_active = false WHERE id = $1', [o.id]);
      const refused = await refusal(rematch(deps(), x.id, id));
      expect(refused.code).toBe('cannot_rematch');
      expect(refused.message).toMatch(/account is closed/);
      expect((await state(id)).rematch.nextId).toBeNull();
    });

    it('counts a player gone from the last refresh of the instance that held their socket, once it stops refreshing', async () => {
      const { id, x, o } = await startedGame();
      await makeMove(deps(), x.id, id, 0, 4);
      await setPresence(t.db.pool, 'dead-instance', id, o.id, 1, now);
      expect((await state(id)).awaySince.O).toBeNull();
      const lastSeen = now;
      now += PRESENCE_STALE_MS + 1_000;
      expect(await endStalePresence(t.db.pool, now)).toContain(id);
      expect((await state(id)).awaySince.O).toBe(lastSeen);
      // An instance's own refresh repairs what a lost write left behind: rows it no longer holds count no sockets.
      await setPresence(t.db.pool, 'live-instance', id, o.id, 1, now);
      await refreshPresence(t.db.pool, 'live-instance', [], now + 1);
      expect((await state(id)).awaySince.O).toBe(now);
    });

    it('shows a running game live even when asked for a replayed position', async () => {
      const { id, x } = await startedGame();
      const page = await x.agent.get(`/games/${id}?ply=0`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('js/game');
      expect(page.text).toMatch(/http-equiv="refresh"/);
    });

    it('aborts friend and open games nobody joins within the hour', async () => {
      const p = await player();
      const joiner = await player();
      const stale = await createGame(deps(), p.id, { mode: 'open', level: 'perfect', playAs: 'X' });
      now += WAITING_EXPIRES_MS - 1_000;
      const fresh = await createGame(deps(), p.id, { mode: 'friend', level: 'perfect', playAs: 'X' });
      now += 2_000;
      expect((await refusal(joinGame(deps(), joiner.id, stale))).code).toBe('expired');
      expect(await expireWaitingGames(deps())).toBeGreaterThanOrEqual(1);
      expect((await state(stale)).status).toBe('aborted');
      expect((await state(stale)).reason).toBe('expired');
      expect((await state(fresh)).status).toBe('waiting');
      expect((await p.agent.get(`/games/${stale}`)).text).toMatch(/data-status="aborted"/);
    });
  });

  describe('lobby', () => {
    it('lists others\' open games with Join, your games with whose turn it is, and live games to watch', async () => {
      const host = await player();
      const viewer = await player();
      const openId = await createGame(deps(), host.id, { mode: 'open', level: 'perfect', playAs: 'X' });
      const mineId = await createGame(deps(), viewer.id, { mode: 'ai', level: 'perfect', playAs: 'X' });
      const { id: liveId } = await startedGame();

      const lobby = (await viewer.agent.get('/')).text;
      expect(lobby).toMatch(/<label for="level">Difficulty<\/label>/);
      expect(lobby).toMatch(/<option value="easy">Easy<\/option>/);
      expect(lobby).toMatch(/<label for="play-as">Play as<\/label>/);
      for (const name of ['Play the computer', 'Invite a friend', 'Create open game']) expect(lobby).toContain(`>${name}</button>`);
      const section = (heading: string) => lobby.split(`>${heading}</h2>`)[1]!.split('</section>')[0]!;
      expect(section('Open games')).toContain(`/games/${openId}/join`);
      expect(section('Open games')).toMatch(/>Join</);
      expect(section('Your games')).toContain(`/games/${mineId}`);
      expect(section('Your games')).toContain('Your turn');
      expect(section('Live games')).toContain(`/games/${liveId}`);
      expect(section('Open games')).not.toContain(mineId);

      const fragment = await viewer.agent.get('/lobby/lists');
      expect(fragment.text).toContain('Open games');
      expect(fragment.text).not.toContain('<nav');
    });
  });
});
