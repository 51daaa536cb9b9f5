/** Profiles and the leaderboard. */
import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { LEVEL_NAMES } from '../game/model.js';
import { DELETED_NAME, outcomeFor, seatName, seatOf, type GameRow } from '../game/row.js';
import { isVariantId, otherMark, VARIANT_IDS, VARIANTS, type VariantId } from '../game/variants/index.js';
import { HttpError } from '../web/errors.js';
import { displayRating, isProvisional, NEW_PLAYER } from './ratings.js';
import * as usersStore from './store.js';

const PAGE_SIZE = 20;
const pageParam = z.coerce.number().int().min(1).max(10_000).catch(1);

const OUTCOME_WORDS = { won: 'Won', lost: 'Lost', draw: 'Draw' } as const;

/** One line of a profile's game history, from the profile owner's side. */
function historyLine(row: GameRow, userId: number) {
  const you = seatOf(row, userId) ?? 'X';
  const opponent = seatName(row, otherMark(you));
  const ratingChange = you === 'X' ? row.xRatingChange : row.oRatingChange;
  return {
    id: row.id,
    variant: VARIANTS[row.variant].name,
    opponent: opponent ?? '—',
    opponentLink: row.mode !== 'ai' && opponent !== DELETED_NAME ? opponent : null,
    result: OUTCOME_WORDS[outcomeFor(row.result, you) ?? 'draw'],
    you,
    ratingChange: ratingChange === null ? null : Math.round(ratingChange),
    finishedAt: new Date(row.finishedAt ?? row.updatedAt),
  };
}

type Tally = usersStore.Record;
const sum = (rows: Tally[]): Tally => rows.reduce((a, r) => ({ wins: a.wins + r.wins, losses: a.losses + r.losses, draws: a.draws + r.draws }), { wins: 0, losses: 0, draws: 0 });

/** Everyone's wins, losses and draws together, against people and against the computer. */
function total(records: usersStore.RecordRow[]): { people: Tally; computer: Tally } {
  return { people: sum(records.filter((r) => !r.vsComputer)), computer: sum(records.filter((r) => r.vsComputer)) };
}

/** One row per variant the player has finished games or ratings in: rating and record. */
function perVariant(records: usersStore.RecordRow[], ratings: usersStore.VariantRating[]) {
  return VARIANT_IDS.flatMap((id) => {
    const rows = records.filter((r) => r.variant === id);
    const rating = ratings.find((r) => r.variant === id);
    if (rows.length === 0 && !rating) return [];
    return [{ name: VARIANTS[id].name, rating: rating ? displayRating(rating) : '—', ...sum(rows) }];
  });
}

export function userRoutes({ db }: { db: Pool }) {
  const showProfile: RequestHandler = async (req, res) => {
    const profile = await usersStore.findProfile(db, String(req.params.username));
    if (!profile) throw new HttpError(404, 'There is no player with that name.');
    const page = pageParam.parse(req.query.page);
    const [records, ratings, rows] = await Promise.all([
      usersStore.recordOf(db, profile.id),
      usersStore.ratingsOf(db, profile.id),
      usersStore.finishedGames(db, profile.id, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE),
    ]);
    const games = rows.slice(0, PAGE_SIZE).map((row) => historyLine(row, profile.id));
    const byVariant = perVariant(records, ratings);
    // The headline rating is the variant they have played most rated games of (classic if none).
    const main = ratings.reduce<usersStore.VariantRating | undefined>((a, b) => (a && a.ratedGames >= b.ratedGames ? a : b), undefined);
    res.render('profile', {
      title: profile.username,
      profile,
      rating: displayRating(main ?? NEW_PLAYER),
      ratingVariant: VARIANTS[main?.variant ?? 'classic'].name,
      provisional: ratings.some((r) => isProvisional(r)) || !main,
      record: total(records),
      byVariant,
      games,
      page,
      hasNext: rows.length > PAGE_SIZE,
      levelNames: LEVEL_NAMES,
    });
  };

  const showLeaderboard: RequestHandler = async (req, res) => {
    const variant: VariantId = isVariantId(req.query.variant) ? req.query.variant : 'classic';
    const rows = await usersStore.leaderboard(db, variant, 200);
    const shown = rows.map((row) => ({ ...row, display: displayRating(row) }));
    res.render('leaderboard', {
      title: `Leaderboard · ${VARIANTS[variant].name}`,
      variant,
      variants: VARIANT_IDS.map((id) => ({ id, name: VARIANTS[id].name })),
      ranked: shown.filter((row) => !isProvisional(row)),
      provisional: shown.filter((row) => isProvisional(row)),
    });
  };

  return { showProfile, showLeaderboard };
}
