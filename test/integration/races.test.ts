/**
 * Races between two app instances on one PostgreSQL: the same move sent through both at once,
 * a rematch accepted twice, a resignation against a winning move, a claim of victory against a
 * move. Whatever the order the database picks, the outcome is one consistent result: status,
 * result, the moves table, the version and the ratings all tell the same story.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/game/ai.js';
import { CLAIM_AFTER_MS } from '../../src/game/presence.js';
import type { ServerMessage } from '../../src/game/protocol.js';
import { claimVictory, createGame, GameError, joinGame, makeMove, rematch, resign, type GameDeps } from '../../src/game/service.js';
import { setPresence } from '../../src/game/store.js';
import { startInstanceOn, type Instance } from '../helpers/cluster.js';
import { expectedFriendVersion, problemsOf, readGame } from '../helpers/consistency.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/database.js';
import { isState, openSocket, signedIn, type TestSocket } from '../helpers/live.js';

const ROUNDS = 12;

describe.each(databaseKinds)('races between two instances on one %s PostgreSQL', (kind) => {
  let database: TestDatabase;
  let a: Instance;
  let b: Instance;
  let now = Date.parse('2026-03-01T10:00:00Z');
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    const clock = () => now;
    [a, b] = await Promise.all([
      startInstanceOn(database.url, { clock, random: mulberry32(1) }),
      startInstanceOn(database.url, { clock, random: mulberry32(2) }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  /** A new account registered through instance A, with its id and session cookie. */
  async function player() {
    const { cookie, username } = await signedIn(a.url);
    const { rows } = await database.pool.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [username]);
    return { id: rows[0]!.id, username, cookie };
  }

  /** A friend game created on A and joined on B, X to move. */
  async function startedGame(x: number, o: number) {
    const id = await createGame(a.gameDeps, x, { mode: 'friend', level: 'perfect', playAs: 'X' });
    await joinGame(b.gameDeps, o, id);
    return id;
  }

  async function play(deps: GameDeps[], id: string, x: number, o: number, cells: number[]) {
    for (const [ply, cell] of cells.entries()) await makeMove(deps[ply % 2]!, ply % 2 === 0 ? x : o, id, ply, cell);
  }

  const codeOf = (reason: unknown) => (reason instanceof GameError || (reason as { code?: string }).code ? (reason as GameError).code : String(reason));

  async function consistent(id: string, extraVersions = 0) {
    const log = await readGame(database.pool, id);
    expect(problemsOf(log), `game ${id}`).toEqual([]);
    if (log.game.mode !== 'ai') expect(log.game.version, `version of ${id}`).toBe(expectedFriendVersion(log.game, extraVersions));
    return log;
  }

  it('lets exactly one of the same move sent through both instances at once win (WebSocket, two tabs)', { timeout: 60_000 }, async () => {
    const x = await player();
    const o = await player();
    // One account, two tabs: one whose socket went to instance A, one to instance B.
    const onA = await openSocket(a.url, x.cookie);
    const onB = await openSocket(b.url, x.cookie);
    sockets.push(onA, onB);
    const outcomes = { sameCell: 0, otherCell: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      // Two messages a round per socket: pace the rounds to stay inside the per-connection limit
      // (10 messages a second), which fast rounds would otherwise hit.
      await new Promise((resolve) => setTimeout(resolve, 250));
      const id = await startedGame(x.id, o.id);
      for (const s of [onA, onB]) {
        s.send({ type: 'subscribe', game: id });
        await s.next((m) => isState(m) && m.game.id === id && m.game.status === 'active');
      }
      const sameCell = round % 2 === 0;
      const cells = sameCell ? [4, 4] : [round % 9, (round + 3) % 9];
      onA.send({ type: 'move', id: `a${round}`, game: id, ply: 0, cell: cells[0]! });
      onB.send({ type: 'move', id: `b${round}`, game: id, ply: 0, cell: cells[1]! });
      const replies = await Promise.all([
        onA.reply(`a${round}`),
        onB.reply(`b${round}`),
      ]);
      expect(replies.filter((r) => r.type === 'ack'), JSON.stringify(replies)).toHaveLength(1);
      const refused = replies.find((r) => r.type === 'error') as Extract<ServerMessage, { type: 'error' }>;
      expect(['stale', 'occupied']).toContain(refused.code);
      const winner = replies[0]!.type === 'ack' ? cells[0]! : cells[1]!;

      const log = await consistent(id);
      expect(log.moves).toEqual([{ ply: 1, cell: winner, mark: 'X', playerId: x.id }]);
      expect(log.game.version).toBe(3);
      // Both tabs end up showing the one move that was made.
      for (const s of [onA, onB]) await s.next((m) => isState(m) && m.game.id === id && m.game.ply === 1 && m.game.moves[0] === winner);
      outcomes[sameCell ? 'sameCell' : 'otherCell'] += 1;
    }
    expect(outcomes).toEqual({ sameCell: ROUNDS / 2, otherCell: ROUNDS / 2 });
  });

  it('lets exactly one of 20 concurrent attempts of the next move win, half through each instance', { timeout: 60_000 }, async () => {
    const x = await player();
    const o = await player();
    for (let round = 0; round < 4; round++) {
      const id = await startedGame(x.id, o.id);
      await makeMove(a.gameDeps, x.id, id, 0, 4);
      const attempts = Array.from({ length: 20 }, (_, i) => makeMove(i % 2 ? a.gameDeps : b.gameDeps, o.id, id, 1, [0, 1, 2, 3, 5, 6, 7, 8][i % 8]!));
      const results = await Promise.allSettled(attempts);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(['stale', 'occupied']).toContain(codeOf(r.reason));
      const log = await consistent(id);
      expect(log.moves.map((m) => m.mark)).toEqual(['X', 'O']);
    }
  });

  it('starts exactly one rematch when it is accepted twice at once, on both instances', { timeout: 60_000 }, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const x = await player();
      const o = await player();
      const id = await startedGame(x.id, o.id);
      await resign(a.gameDeps, o.id, id);
      // One offer is recorded whichever way it goes (a version), then the link (another).
      const offers = 1;
      if (round % 2 === 0) {
        // X offers first; O's two tabs accept at once.
        expect(await rematch(a.gameDeps, x.id, id)).toBeNull();
        const [first, second] = await Promise.all([rematch(a.gameDeps, o.id, id), rematch(b.gameDeps, o.id, id)]);
        expect(first).not.toBeNull();
        expect(second).toBe(first);
      } else {
        // Both players click Rematch at the same moment, on different instances: one offers, one accepts.
        const both = await Promise.all([rematch(a.gameDeps, x.id, id), rematch(b.gameDeps, o.id, id)]);
        expect(both.filter((r) => r === null)).toHaveLength(1);
      }
      const { rows } = await database.pool.query<{ id: string; x: number; o: number; status: string }>(
        'SELECT id, player_x AS x, player_o AS o, status FROM games WHERE rematch_of = $1',
        [id],
      );
      expect(rows, `round ${round}`).toHaveLength(1);
      expect(rows[0]).toMatchObject({ x: o.id, o: x.id, status: 'active' });
      const log = await consistent(id, offers + 1);
      expect(log.game.rematchId).toBe(rows[0]!.id);
      // Anyone clicking again is sent to the same game.
      expect(await rematch(b.gameDeps, x.id, id)).toBe(rows[0]!.id);
      expect(await rematch(a.gameDeps, o.id, id)).toBe(rows[0]!.id);
    }
  });

  it('ends a game once when a resignation and the winning move meet, with one rating change', { timeout: 60_000 }, async () => {
    const seen = new Set<string>();
    for (let round = 0; round < 16; round++) {
      const x = await player();
      const o = await player();
      const id = await startedGame(x.id, o.id);
      await play([a.gameDeps, b.gameDeps], id, x.id, o.id, [0, 3, 1, 4]);
      // X has 0 and 1; cell 2 wins. Through instance B, X plays it; through A, at the same time,
      // either O resigns, or X (in another tab) resigns.
      const resigner = round % 2 === 0 ? o.id : x.id;
      const [moved, resigned] = await Promise.allSettled([makeMove(b.gameDeps, x.id, id, 4, 2), resign(a.gameDeps, resigner, id)]);
      expect([moved.status, resigned.status].filter((s) => s === 'fulfilled'), `round ${round}`).toHaveLength(1);
      const loser = moved.status === 'rejected' ? moved : resigned;
      expect(codeOf((loser as PromiseRejectedResult).reason)).toBe('game_over');

      const log = await consistent(id);
      expect(log.game.status).toBe('finished');
      if (moved.status === 'fulfilled') {
        expect(log.game).toMatchObject({ result: 'x_won', reason: 'line', ply: 5 });
        seen.add('move');
      } else {
        expect(log.game).toMatchObject({ result: resigner === x.id ? 'o_won' : 'x_won', reason: 'resigned', ply: 4 });
        seen.add('resign');
      }
      // Rated exactly once: each player has one rated game, and the changes add up.
      const { rows } = await database.pool.query<{ id: number; rated: number; rating: number }>(
        `SELECT user_id AS id, rated_games AS rated, rating FROM ratings WHERE user_id = ANY($1) AND variant = 'classic'`,
        [[x.id, o.id]],
      );
      for (const row of rows) expect(row.rated).toBe(1);
      const xRating = rows.find((r) => r.id === x.id)!.rating;
      expect(xRating - 1500).toBeCloseTo(log.game.xRatingChange!, 6);
      expect((log.game.result === 'x_won') === xRating > 1500).toBe(true);
    }
    console.info(`resign vs winning move: outcomes seen ${[...seen].join(', ')}`);
  });

  it('ends a game once when a claim of victory and the absent player\'s move meet', { timeout: 60_000 }, async () => {
    const seen = new Set<string>();
    for (let round = 0; round < 16; round++) {
      const x = await player();
      const o = await player();
      const id = await startedGame(x.id, o.id);
      await makeMove(a.gameDeps, x.id, id, 0, 4);
      // O's socket (on B) dropped at once; X stays connected (on A) for more than a minute.
      await setPresence(database.pool, 'instance-b', id, o.id, 0, now);
      now += CLAIM_AFTER_MS + 1_000;
      await setPresence(database.pool, 'instance-a', id, x.id, 1, now);

      const [claimed, moved] = await Promise.allSettled([claimVictory(a.gameDeps, x.id, id), makeMove(b.gameDeps, o.id, id, 1, 0)]);
      expect([claimed.status, moved.status].filter((s) => s === 'fulfilled'), `round ${round}`).toHaveLength(1);
      const log = await consistent(id);
      if (claimed.status === 'fulfilled') {
        expect(codeOf((moved as PromiseRejectedResult).reason)).toBe('game_over');
        expect(log.game).toMatchObject({ status: 'finished', result: 'x_won', reason: 'abandoned', ply: 1 });
        expect(log.moves).toHaveLength(1);
        seen.add('claim');
      } else {
        expect(codeOf((claimed as PromiseRejectedResult).reason)).toBe('cannot_claim');
        expect(log.game).toMatchObject({ status: 'active', result: null, ply: 2 });
        expect(log.moves.map((m) => m.cell)).toEqual([4, 0]);
        seen.add('move');
      }
    }
    console.info(`claim vs move: outcomes seen ${[...seen].join(', ')}`);
  });
});
