/**
 * Game pages and the form posts that work without JavaScript. The browser script sends the same
 * actions over the WebSocket; both end in the same service functions.
 */
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { hintFor } from './analysis.js';
import { parseBoard, RuleError } from './rules.js';
import { LEVELS, type GameState } from './model.js';
import { claimVictory, createGame, GameError, joinGame, loadGame, makeMove, rematch, resign, type GameDeps } from './service.js';
import { cellName, viewGame } from './view.js';
import { renderError } from '../web/errors.js';

const newGameForm = z.object({
  mode: z.enum(['ai', 'friend', 'open'], { error: 'Choose how to play.' }),
  level: z.enum(LEVELS as ['easy', 'medium', 'perfect']).default('perfect'),
  playAs: z.enum(['X', 'O', 'random']).default('random'),
});

const replayPly = z.coerce.number().int().min(0).max(9).optional();

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
  function renderGame(
    req: Request,
    res: Response,
    game: GameState,
    extra: { error?: string; hint?: number; replayPly?: number } = {},
  ) {
    const view = viewGame(game, req.user?.id ?? null, deps.clock(), { replayPly: extra.replayPly });
    if (extra.hint !== undefined) view.detail = `Hint: try ${cellName(extra.hint)}.`;
    res.render('game', {
      title: view.title,
      game,
      view,
      error: extra.error ?? null,
      hint: extra.hint ?? null,
      replaying: extra.replayPly !== undefined,
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
    renderGame(req, res, game, { error: err.message });
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
    // ?ply=N shows a finished game after N moves: each position of a replay has its own URL.
    const ply = replayPly.safeParse(req.query.ply);
    renderGame(req, res, game, ply.success && ply.data !== undefined ? { replayPly: ply.data } : {});
  };

  /** The best move, in games against the computer at Easy or Medium only (JSON for the script). */
  const hint: RequestHandler = async (req, res) => {
    const game = await loadGame(deps, String(req.params.id));
    if (!game) return renderError(res, 404, 'There is no game at this address.');
    if (!viewGame(game, req.user!.id, deps.clock()).canHint) {
      return renderError(res, 403, 'Hints are only for your turn in a game against the computer at Easy or Medium.');
    }
    const cell = hintFor(parseBoard(game.board))!;
    if (req.accepts(['html', 'json']) === 'json') return res.json({ cell, text: `Hint: try ${cellName(cell)}.` });
    renderGame(req, res, game, { hint: cell });
  };

  const move = action(async (req, userId, id) => {
    const parsed = moveForm.safeParse(req.body);
    if (!parsed.success) throw new GameError('bad_request', 'Choose an empty square on the board.');
    await makeMove(deps, userId, id, parsed.data.ply, parsed.data.cell);
  });

  return {
    create,
    show,
    hint,
    move,
    join: action((_req, userId, id) => joinGame(deps, userId, id)),
    resign: action((_req, userId, id) => resign(deps, userId, id)),
    claim: action((_req, userId, id) => claimVictory(deps, userId, id)),
    rematch: action((_req, userId, id) => rematch(deps, userId, id)),
  };
}
