/**
 * The variants through the site, without JavaScript: the lobby's Variant choice, Ultimate against
 * the computer by form posts (its reply sent where the move sends it), refusals with the reason,
 * each variant's own board checks in the database, and ratings and leaderboards per variant.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/game/ai.js';
import { createGame, joinGame, loadGame, makeMove, resign } from '../../src/game/service.js';
import { cellOf, innerOf, smallBoardOf } from '../../src/game/variants/ultimate.js';
import { csrfTokenIn, registerUser, startTestApp, type TestApp } from '../helpers/app.js';
import { databaseKinds } from '../helpers/database.js';

const at = (board: number, inner: number) => cellOf(board - 1, inner - 1);

describe.each(databaseKinds)('variants on the %s database', (kind) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(kind, { random: mulberry32(11) });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function player() {
    const agent = request.agent(t.app);
    const { username } = await registerUser(agent);
    const { rows } = await t.db.pool.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [username]);
    return { id: rows[0]!.id, username, agent };
  }

  async function newGame(agent: request.Agent, fields: Record<string, string>): Promise<string> {
    const page = await agent.get('/');
    const res = await agent.post('/games').type('form').send({ _csrf: csrfTokenIn(page.text), ...fields });
    expect(res.status, res.text).toBe(303);
    return String(res.headers.location).split('/').pop()!;
  }

  async function postMove(agent: request.Agent, id: string, ply: number, cell: number) {
    const page = await agent.get(`/games/${id}`);
    return agent.post(`/games/${id}/moves`).type('form').send({ _csrf: csrfTokenIn(page.text), ply: String(ply), cell: String(cell) });
  }

  it('offers the variants in the lobby, with the rule of the one chosen', async () => {
    const p = await player();
    const page = await p.agent.get('/');
    expect(page.text).toMatch(/<label for="variant">Variant<\/label>/);
    const options = [...page.text.matchAll(/<option value="(classic|ultimate|misere)"[^>]*>([^<]+)<\/option>/g)].map((m) => m[2]);
    expect(options).toEqual(['Classic', 'Ultimate', 'Misère']);
    expect(page.text).toContain('Three in a row wins.');
  });

  it('plays Ultimate against the computer by form posts: "Perfect" means Hard, and the reply goes where the move sent it', async () => {
    const p = await player();
    const id = await newGame(p.agent, { variant: 'ultimate', mode: 'ai', level: 'perfect', playAs: 'X' });
    const { rows } = await t.db.pool.query('SELECT variant, ai_level, board FROM games WHERE id = $1', [id]);
    expect(rows[0]).toEqual({ variant: 'ultimate', ai_level: 'hard', board: `${'.'.repeat(81)}-` });

    const page = await p.agent.get(`/games/${id}`);
    expect(page.text.match(/data-cell="\d+"/g)).toHaveLength(81);
    expect(page.text.match(/role="row"/g)).toHaveLength(9);
    expect(page.text).toContain('aria-label="Board 5, row 1, column 3, empty"');

    // X takes the top right cell of board 1: the computer must answer in board 3.
    const res = await postMove(p.agent, id, 0, at(1, 3));
    expect(res.status).toBe(303);
    const game = (await loadGame(t.gameDeps, id))!;
    expect(game.moves).toHaveLength(2);
    expect(game.moves[0]).toBe(at(1, 3));
    expect(smallBoardOf(game.moves[1]!)).toBe(2);
    // Now X must play in the board matching the computer's cell: the page lights that board.
    const after = await p.agent.get(`/games/${id}`);
    const sentTo = innerOf(game.moves[1]!);
    const active = [...after.text.matchAll(/data-cell="(\d+)"[^>]*data-active/g)].map((m) => Number(m[1]));
    expect(new Set(active.map(smallBoardOf))).toEqual(new Set([sentTo]));
    expect(after.text).toMatch(/You play in board \d, [a-z ]+\./);

    // A move in another board is refused with the reason, and nothing changes.
    const elsewhere = [...Array(81).keys()].find((cell) => smallBoardOf(cell) !== sentTo && cell !== at(1, 3))!;
    const refused = await postMove(p.agent, id, 2, elsewhere);
    expect(refused.status).toBe(409);
    expect(refused.text).toMatch(/You must play in board \d, [a-z ]+\./);
    expect((await loadGame(t.gameDeps, id))!.ply).toBe(2);
  });

  it('gives an Ultimate hint at Easy: a legal move in the board the player was sent to, the same when asked again', async () => {
    const p = await player();
    const id = await newGame(p.agent, { variant: 'ultimate', mode: 'ai', level: 'easy', playAs: 'X' });
    expect((await postMove(p.agent, id, 0, at(5, 5))).status).toBe(303);
    const game = (await loadGame(t.gameDeps, id))!;
    const hint = await p.agent.get(`/games/${id}/hint`).set('Accept', 'application/json');
    expect(hint.status).toBe(200);
    const { cell, text } = hint.body as { cell: number; text: string };
    expect(smallBoardOf(cell)).toBe(innerOf(game.moves[1]!));
    expect(text).toMatch(/^Hint: try board \d, row \d, column \d\.$/);
    const again = await p.agent.get(`/games/${id}/hint`).set('Accept', 'application/json');
    expect((again.body as { cell: number }).cell).toBe(cell);
  });

  it('survives a flood of hints and repeated moves from one person: others still get pages, nothing fails', async () => {
    const p = await player();
    const id = await newGame(p.agent, { variant: 'ultimate', mode: 'ai', level: 'easy', playAs: 'X' });
    const hints = await Promise.all(Array.from({ length: 60 }, () => p.agent.get(`/games/${id}/hint`).set('Accept', 'application/json')));
    const statuses = new Set(hints.map((h) => h.status));
    expect([...statuses].every((s) => s === 200 || s === 429)).toBe(true);
    expect(new Set(hints.filter((h) => h.status === 200).map((h) => (h.body as { cell: number }).cell)).size).toBe(1);
    const page = await p.agent.get(`/games/${id}`);
    const token = csrfTokenIn(page.text);
    const moves = await Promise.all(
      Array.from({ length: 20 }, () => p.agent.post(`/games/${id}/moves`).type('form').send({ _csrf: token, ply: '0', cell: String(at(5, 5)) })),
    );
    expect(moves.filter((m) => m.status === 303)).toHaveLength(1);
    expect(moves.every((m) => m.status === 303 || m.status === 409 || m.status === 429)).toBe(true);
    expect((await loadGame(t.gameDeps, id))!.ply).toBe(2);
    const visitor = await request(t.app).get('/leaderboard');
    expect(visitor.status).toBe(200);
  });

  it('lets the computer open an Ultimate game in the centre of the centre board at Hard', async () => {
    const p = await player();
    const id = await newGame(p.agent, { variant: 'ultimate', mode: 'ai', level: 'hard', playAs: 'O' });
    expect((await loadGame(t.gameDeps, id))!.moves).toEqual([40]);
  });

  it("checks each variant's own board: cell 9 is off a classic board, on an Ultimate one", async () => {
    const p = await player();
    const classicId = await newGame(p.agent, { variant: 'classic', mode: 'ai', level: 'easy', playAs: 'X' });
    const res = await postMove(p.agent, classicId, 0, 9);
    expect(res.status).toBe(400);
    expect(res.text).toContain('That square is not on the board.');
    // The database refuses it too, whoever writes.
    await expect(
      t.db.pool.query(`INSERT INTO moves (game_id, variant, ply, cell, mark, created_at) VALUES ($1, 'classic', 1, 9, 'X', now())`, [classicId]),
    ).rejects.toThrow(/moves_cell_check/);
    await expect(
      t.db.pool.query(`INSERT INTO moves (game_id, variant, ply, cell, mark, created_at) VALUES ($1, 'ultimate', 1, 9, 'X', now())`, [classicId]),
    ).rejects.toThrow(/moves_game_fkey/);
    await expect(t.db.pool.query(`UPDATE games SET board = $2 WHERE id = $1`, [classicId, `${'.'.repeat(81)}-`])).rejects.toThrow(/games_board_check/);
  });

  it("analyses a finished Ultimate game with the engine, after the game, and shows each move's chances", { timeout: 60_000 }, async () => {
    const x = await player();
    const o = await player();
    const id = await createGame(t.gameDeps, x.id, { variant: 'ultimate', mode: 'friend', level: 'hard', playAs: 'X' });
    await joinGame(t.gameDeps, o.id, id);
    const moves = [58, 12, 27, 9, 29, 6, 1, 3, 19, 57, 10, 39];
    for (const [ply, cell] of moves.entries()) await makeMove(t.gameDeps, ply % 2 === 0 ? x.id : o.id, id, ply, cell);
    await resign(t.gameDeps, o.id, id);
    // Nothing was computed on the request path: the analysis arrives afterwards.
    let game = (await loadGame(t.gameDeps, id))!;
    for (let i = 0; i < 200 && game.analysis === null; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      game = (await loadGame(t.gameDeps, id))!;
    }
    expect(game.analysis!.best).toHaveLength(moves.length);
    expect(game.analysis!.played).toHaveLength(moves.length);
    for (const score of [...game.analysis!.best, ...game.analysis!.played]) {
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    const page = await x.agent.get(`/games/${id}`);
    expect(page.text.match(/class="verdict"> — chances \d+% → \d+%/g)).toHaveLength(moves.length);
  });

  it('rates each variant on its own: a misère loss (by completing a line) moves only misère ratings', async () => {
    const x = await player();
    const o = await player();
    const id = await createGame(t.gameDeps, x.id, { variant: 'misere', mode: 'friend', level: 'perfect', playAs: 'X' });
    await joinGame(t.gameDeps, o.id, id);
    // X completes the top row (0, 1, 2) and so loses.
    const cells = [0, 3, 1, 4, 2];
    for (const [ply, cell] of cells.entries()) await makeMove(t.gameDeps, ply % 2 === 0 ? x.id : o.id, id, ply, cell);
    const game = (await loadGame(t.gameDeps, id))!;
    expect(game).toMatchObject({ status: 'finished', result: 'o_won', reason: 'line' });

    const { rows } = await t.db.pool.query<{ user_id: number; variant: string; rated_games: number; rating: number }>(
      'SELECT user_id, variant, rated_games, rating FROM ratings WHERE user_id = ANY($1) ORDER BY rating',
      [[x.id, o.id]],
    );
    expect(rows.map((r) => [r.user_id, r.variant, r.rated_games])).toEqual([
      [x.id, 'misere', 1],
      [o.id, 'misere', 1],
    ]);
    const misereBoard = await x.agent.get('/leaderboard?variant=misere');
    expect(misereBoard.text).toContain(o.username);
    expect(misereBoard.text).toContain('Misère: players by rating');
    const classicBoard = await x.agent.get('/leaderboard');
    expect(classicBoard.text).not.toContain(o.username);
    const profile = await x.agent.get(`/users/${o.username}`);
    expect(profile.text).toMatch(/<th scope="row">Misère<\/th><td>\d+\??<\/td><td>1<\/td>/);
  });
});
