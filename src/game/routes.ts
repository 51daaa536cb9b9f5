/**
 * Game pages and the form posts that work without JavaScript. The browser script sends the same
 * actions over the WebSocket; both end in the same service functions.
 */
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { RuleError } from './rules.js';
import { LEVELS, type GameState } from './model.js';
import { claimVictory, createGame, GameError, joinGame, loadGame, makeMove, rematch, resign, type GameDeps } from './service.js';
import { viewGame } from './view.js';
import { renderError } from '../web/errors.js';

const newGameForm = z.object({
  mode: z.enum(['ai', 'friend', 'open'], { error: 'Choose how to play.' }),
  level: z.enum(LEVELS as ['easy', 'medium', 'perfect']).default('perfect'),
  playAs: z.enum(['X', 'O', 'random']).default('random'),
});

const moveForm = z.object({
  ply: z.coerce.number().int().min(0).max(9),
  cell: z.coerce.number().int().min(0).max(8),
});

export interface GameRouteDeps extends GameDeps {
  publicOrigin: string | undefined;
}

function originOf(req: Request, publicOrigin: string | undefined): string {
  return publicOrigin ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

export function gameRoutes(deps: GameRouteDeps) {
  function renderGame(req: Request, res: Response, game: GameState, error?: string) {
    const view = viewGame(game, req.user?.id ?? null, deps.clock());
    res.render('game', {
      title: view.title,
      game,
      view,
      error: error ?? null,
      inviteUrl: `${originOf(req, deps.publicOrigin)}/games/${game.id}`,
    });
  }

  /** A refused action shows the game again with the reason and a 4xx status, nothing changed. */
  async function refused(req: Request, res: Response, err: unknown) {
    if (!(err instanceof GameError || err instanceof RuleError)) throw err;
    const status = err instanceof GameError ? err.status : err.code === 'out_of_range' ? 400 : 409;
    const game = await loadGame(deps, String(req.params.id));
    if (!game) return renderError(res, status, err.message);
    res.status(status);
    renderGame(req, res, game, err.message);
  }

  /** Runs an action for the signed-in user and goes back to the game page (post/redirect/get). */
  function action(run: (req: Request, userId: number, id: string) => Promise<string | null | void>): RequestHandler {
    return async (req, res) => {
      const id = String(req.params.id);
      try {
        const next = await run(req, req.user!.id, id);
        res.redirect(303, `/games/${next ?? id}`);
      } catch (err) {
        await refused(req, res, err);
      }
    };
  }

  const create: RequestHandler = async (req, res) => {
    const parsed = newGameForm.safeParse(req.body);
    if (!parsed.success) return renderError(res, 400, parsed.error.issues[0]?.message ?? 'Choose how to play.');
    const id = await createGame(deps, req.user!.id, parsed.data);
    res.redirect(303, `/games/${id}`);
  };

  const show: RequestHandler = async (req, res) => {
    const game = await loadGame(deps, String(req.params.id));
    if (!game) return renderError(res, 404, 'There is no game at this address. Check the link, or start a new game from the lobby.');
    renderGame(req, res, game);
  };

  const move = action(async (req, userId, id) => {
    const parsed = moveForm.safeParse(req.body);
    if (!parsed.success) throw new GameError('bad_request', 'Choose an empty square on the board.');
    await makeMove(deps, userId, id, parsed.data.ply, parsed.data.cell);
  });

  return {
    create,
    show,
    move,
    join: action((_req, userId, id) => joinGame(deps, userId, id)),
    resign: action((_req, userId, id) => resign(deps, userId, id)),
    claim: action((_req, userId, id) => claimVictory(deps, userId, id)),
    rematch: action((_req, userId, id) => rematch(deps, userId, id)),
  };
}
