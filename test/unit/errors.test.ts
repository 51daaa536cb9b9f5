/** The one error path: what a client gets for each kind of error a handler throws. */
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { GameError, type GameErrorCode } from '../../src/game/errors.js';
import { RuleError } from '../../src/game/variants/types.js';
import { errorHandler, HttpError } from '../../src/web/errors.js';

/** An app whose one route throws `err`, answered in JSON (the HTML page needs the views). */
async function answerTo(err: unknown) {
  const app = express();
  const logged: unknown[] = [];
  app.use((req, _res, next) => {
    (req as unknown as { log: object }).log = { error: (o: unknown) => logged.push(o), warn: (o: unknown) => logged.push(o) };
    next();
  });
  app.get('/', () => {
    throw err;
  });
  app.use(errorHandler);
  const res = await request(app).get('/').set('Accept', 'application/json');
  return { status: res.status, body: res.body as { error: string }, retryAfter: res.headers['retry-after'], logged: logged.length };
}

describe('errorHandler', () => {
  it.each<[GameErrorCode, number]>([
    ['not_found', 404],
    ['not_a_player', 403],
    ['bad_request', 400],
    ['stale', 409],
    ['full', 409],
    ['expired', 410],
    ['cancelled', 410],
  ])('answers a game refusal %s with %i and its sentence', async (code, status) => {
    const res = await answerTo(new GameError(code, `refused: ${code}`));
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(`refused: ${code}`);
  });

  it('answers rule refusals by the same map: a malformed board is a bad request, a taken square a conflict', async () => {
    expect((await answerTo(new RuleError('bad_board', 'A board must have exactly 9 squares.'))).status).toBe(400);
    expect((await answerTo(new RuleError('occupied', 'That square is taken.'))).status).toBe(409);
  });

  it('says "try again" (503, Retry-After) only when the database cannot be reached', async () => {
    const down = await answerTo(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    expect(down.status).toBe(503);
    expect(down.retryAfter).toBe('5');
    expect(down.body.error).toMatch(/cannot reach our database/);
  });

  it('treats a protocol error from the database (08P01) as our fault: 500, logged, no details shown', async () => {
    const res = await answerTo(Object.assign(new Error('insufficient data left in message'), { code: '08P01' }));
    expect(res.status).toBe(500);
    expect(res.logged).toBe(1);
    expect(res.body.error).not.toMatch(/insufficient|database/);
  });

  it('passes an HttpError’s status, message and Retry-After', async () => {
    const res = await answerTo(new HttpError(429, 'Too many attempts. Try again in 2 minutes.', 90));
    expect([res.status, res.body.error, res.retryAfter]).toEqual([429, 'Too many attempts. Try again in 2 minutes.', '90']);
  });
});
