/**
 * Baseline for the signed-in game page: a bare Express + EJS handler rendering the real
 * views/game.ejs (with its partials) from a constant game, through the real view model
 * (viewGame), with template caching on as in production. No session, no database, no middleware;
 * the template locals come from the app's own pure viewLocals, given a constant user, so that the
 * page stays the same as the app's when the templates change.
 *
 * Environment: PORT, VIEWER_ID and VIEWER_NAME (the page's X player), OPPONENT_ID, GAME_ID.
 */
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { GameState } from '../../src/game/model.js';
import { viewGame } from '../../src/game/view.js';
import { assetUrls } from '../../src/web/assets.js';
import { viewLocals } from '../../src/web/locals.js';
import { emit } from '../lib/common.js';
import { classic } from '../../src/game/variants/classic.js';

const root = (dir: string) => fileURLToPath(new URL(`../../${dir}`, import.meta.url));
const viewerId = Number(process.env.VIEWER_ID ?? 1);
const viewerName = process.env.VIEWER_NAME ?? 'pagex';
const opponentId = Number(process.env.OPPONENT_ID ?? 2);
const gameId = process.env.GAME_ID ?? 'pagegame0001';
const started = Date.now();

/** The same position the seeded page game has: X 0, O 4, X 8, O 2; X to move; nobody connected. */
const game: GameState = {
  id: gameId,
  variant: 'classic',
  mode: 'friend',
  aiLevel: null,
  status: 'active',
  result: null,
  reason: null,
  board: 'X.O.O...X',
  ply: 4,
  version: 6,
  createdBy: viewerId,
  players: { X: { id: viewerId, name: viewerName }, O: { id: opponentId, name: 'pageo' } },
  moves: [0, 4, 8, 2],
  awaySince: { X: started, O: started },
  turnStartedAt: started,
  expiresAt: null,
  rematch: { offeredBy: null, nextId: null },
  analysis: null,
};
/** csrf-sync's tokens are 256 hex characters; a constant of the same length. */
const CSRF = 'a'.repeat(256);

const app = express();
app.disable('x-powered-by');
app.set('views', root('views'));
app.set('view engine', 'ejs');
app.enable('view cache');
app.locals.asset = assetUrls(root('public'), { cache: true });

const user = { id: viewerId, username: viewerName, isAdmin: false };
const noSession = {} as Express.Request['session'];

app.get('/games/:id', (req, res, next) => {
  req.user = user;
  req.session = noSession;
  res.locals.csrfToken = () => CSRF;
  viewLocals(req, res, next);
});
app.get('/games/:id', (req, res) => {
  const view = viewGame(game, viewerId, Date.now());
  res.render('game', {
    title: view.title,
    game,
    view,
    variantName: classic.name,
    variantSummary: classic.summary,
    error: null,
    hint: null,
    replaying: false,
    inviteUrl: `http://${req.get('host') ?? 'localhost'}/games/${game.id}`,
  });
});

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  emit({ listening: (server.address() as { port: number }).port });
});
