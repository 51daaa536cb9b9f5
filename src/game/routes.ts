/**
 * Game pages and the form posts that work without JavaScript. The browser script sends the same
 * actions over the WebSocket; both end in the same service functions.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { PAGE_RELOAD_SECONDS } from './presence.js';
import type { GameState } from './model.js';
import { LEVELS } from './engines/index.js';
import { VARIANT_IDS, variantOf } from './variants/index.js';
import { claimVictory, createGame, ensureAnalysis, GameError, joinGame, loadGame, makeMove, rematch, resign, seenOnPage, type GameDeps } from './service.js';
import { viewGame } from './view.js';
import { refusal } from '../web/errors.js';

/**
 * The lobby's form. 'perfect' and 'hard' both mean the variant's strongest level, so a form sent
 * without JavaScript (whose Difficulty list cannot follow the Variant chosen) still means it.
 */
const newGameForm = z
  .object({
    variant: z.enum(VARIANT_IDS, { error: 'Choose a variant.' }).default('classic'),
    mode: z.enum(['ai', 'friend', 'open'], { error: 'Choose how to play.' }),
    level: z.enum(['easy', 'medium', 'perfect', 'hard'], { error: 'Choose a difficulty.' }).default('perfect'),
    playAs: z.enum(['X', 'O', 'random'], { error: 'Choose X, O or Random.' }).default('random'),
  })
  .transform((form) => ({ ...form, level: LEVELS[form.variant].includes(form.level) ? form.level : LEVELS[form.variant].at(-1)! }));

/** A small whole number as a form sends it: decimal digits only ("0x4" and "4e0" are not 4). */
const digits = (max: number) => z.string().regex(/^\d{1,2}$/).transform(Number).pipe(z.number().int().min(0).max(max));

const replayPly = digits(81).optional();

/** Checked against the game's own board by the service (a classic cell is 0..8). */
const moveForm = z.object({ ply: digits(81), cell: digits(80) });

export interface GameRouteDeps extends GameDeps {
  publicOrigin: string | undefined;
  /** How often a game page reloads itself without JavaScript (default PAGE_RELOAD_SECONDS; tests shorten it). */
  pageReloadSeconds?: number;
}

function originOf(req: Request, publicOrigin: string | undefined): string {
  return publicOrigin ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/** Renders a game page for the request's viewer, with a refusal, a hint or a replayed position. */
function renderGame(deps: GameRouteDeps, req: Request, res: Response, game: GameState, extra: { error?: string; hint?: number; replayPly?: number } = {}) {
  const view = viewGame(game, req.user?.id ?? null, deps.clock(), { replayPly: extra.replayPly });
  if (extra.hint !== undefined) view.detail = `Hint: try ${variantOf(game.variant).cellName(extra.hint)}.`;
  // Only a game that is over can be replayed; ?ply= on a running game shows it live.
  const replaying = view.replay !== null && extra.replayPly !== undefined;
  // Without JavaScript the page reloads itself while the game can change, which keeps a
  // player present (see presence.ts) and shows the opponent's moves.
  const live = !replaying && (game.status === 'waiting' || game.status === 'active');
  const variant = variantOf(game.variant);
  res.render('game', {
    title: view.title,
    game,
    view,
    variantName: variant.name,
    variantSummary: variant.summary,
    error: extra.error ?? null,
    hint: extra.hint ?? null,
    replaying,
    reloadSeconds: live ? (deps.pageReloadSeconds ?? PAGE_RELOAD_SECONDS) : null,
    inviteUrl: `${originOf(req, deps.publicOrigin)}/games/${game.id}`,
  });
}

/**
 * A refused action on a game page (a form post without JavaScript) shows the game again with
 * the reason, and the status of the one map (web/errors.ts); anything else goes on to the site's
 * error handler.
 */
export function gameRefusals(deps: GameRouteDeps): ErrorRequestHandler {
  return async (err, req, res, next) => {
    const refusedBy = refusal(err);
    const game = refusedBy && req.accepts(['html', 'json']) === 'html' ? await loadGame(deps, String(req.params.id ?? '')) : undefined;
    if (!refusedBy || !game || res.headersSent) return next(err);
    res.status(refusedBy.status);
    renderGame(deps, req, res, game, { error: refusedBy.message });
  };
}

export function gameRoutes(deps: GameRouteDeps) {
  /** The game, or a 404 refusal. */
  async function gameAt(id: string): Promise<GameState> {
    const game = await loadGame(deps, id);
    if (!game) throw new GameError('not_found', 'There is no game at this address. Check the link, or start a new game from the lobby.');
    return game;
  }

  /** Runs an action for the signed-in user and goes back to the game page (post/redirect/get). */
  function action(run: (req: Request, userId: number, id: string) => Promise<string | null | void>): RequestHandler {
    return async (req, res) => {
      const id = String(req.params.id);
      const next = await run(req, req.user!.id, id);
      res.redirect(303, `/games/${next ?? id}`);
    };
  }

  const create: RequestHandler = async (req, res) => {
    const parsed = newGameForm.safeParse(req.body);
    if (!parsed.success) throw new GameError('bad_request', parsed.error.issues[0]?.message ?? 'Choose how to play.');
    const id = await createGame(deps, req.user!.id, parsed.data);
    res.redirect(303, `/games/${id}`);
  };

  const show: RequestHandler = async (req, res) => {
    const game = await seenOnPage(deps, req.user?.id ?? null, await gameAt(String(req.params.id)));
    ensureAnalysis(deps, game);
    // ?ply=N shows a finished game after N moves: each position of a replay has its own URL.
    const ply = replayPly.safeParse(req.query.ply);
    renderGame(deps, req, res, game, ply.success && ply.data !== undefined ? { replayPly: ply.data } : {});
  };

  /** The best move, in games against the computer at Easy or Medium only (JSON for the script). */
  const hint: RequestHandler = async (req, res) => {
    const game = await gameAt(String(req.params.id));
    if (!viewGame(game, req.user!.id, deps.clock()).canHint) {
      throw new GameError('no_hint', 'Hints are only for your turn in a game against the computer at Easy or Medium.');
    }
    const variant = variantOf(game.variant);
    const cell = await deps.computer.hint(variant, variant.parse(game.board), game.id, req.user!.id);
    if (req.accepts(['html', 'json']) === 'json') return res.json({ cell, text: `Hint: try ${variant.cellName(cell)}.` });
    renderGame(deps, req, res, game, { hint: cell });
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
