/** User management for admins: search, (de)activate, grant or remove admin, and the action log. */
import type { RequestHandler } from 'express';
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import type { EventBus } from '../db/events.js';
import { callOffWaitingGames, type GameDeps } from '../game/service.js';
import { HttpError } from '../web/errors.js';
import { setFlash } from '../web/locals.js';
import { saveSession } from '../web/session.js';
import * as adminStore from './store.js';

const PAGE_SIZE = 25;

const listQuery = z.object({
  q: z.string().max(40).catch(''),
  page: z.coerce.number().int().min(1).max(10_000).catch(1),
});

/** An account number as the users table holds it (a positive `integer`); anything else names no account. */
const userIdParam = z.string().regex(/^[1-9][0-9]{0,9}$/).transform(Number).pipe(z.number().max(2_147_483_647));

const ACTIONS = {
  deactivate: 'deactivate',
  activate: 'activate',
  'grant-admin': 'grant_admin',
  'remove-admin': 'remove_admin',
} as const satisfies Record<string, adminStore.AdminAction>;

const WORDS: Record<adminStore.AdminAction, string> = {
  deactivate: 'deactivated',
  activate: 'activated',
  grant_admin: 'made an admin',
  remove_admin: 'no longer an admin',
  create_admin: 'made an admin',
};

/** Admin pages answer 403 to everyone else, visitors included. */
export const requireAdmin: RequestHandler = (req, _res, next) => {
  if (req.user?.isAdmin) return next();
  next(new HttpError(403, 'This page is for administrators.'));
};

export function adminRoutes({ db, bus, games }: { db: Pool; bus: EventBus; games: GameDeps }) {
  const listUsers: RequestHandler = async (req, res) => {
    const { q, page } = listQuery.parse(req.query);
    const [rows, actions] = await Promise.all([
      adminStore.searchUsers(db, q, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE),
      adminStore.recentActions(db, 30),
    ]);
    res.render('admin-users', { title: 'Users', users: rows.slice(0, PAGE_SIZE), hasNext: rows.length > PAGE_SIZE, q, page, actions });
  };

  const act: RequestHandler = async (req, res) => {
    const action = ACTIONS[String(req.params.action) as keyof typeof ACTIONS];
    if (!action) throw new HttpError(404, 'There is no such action.');
    const parsedId = userIdParam.safeParse(req.params.id);
    if (!parsedId.success) throw new HttpError(404, 'There is no such user.');
    const targetId = parsedId.data;
    if (targetId === req.user!.id) {
      throw new HttpError(409, 'You cannot change your own account here; ask another admin.');
    }
    // A deactivated account's waiting games are called off with it: nobody could play its creator.
    const apply = (tx: Pool | PoolClient) => adminStore.applyAction(tx, req.user!.id, targetId, action);
    const applied = action === 'deactivate' ? await callOffWaitingGames(games, targetId, apply) : await apply(db);
    if (!applied) {
      throw new HttpError(404, 'There is no such user.');
    }
    // Logged out everywhere at once: every instance closes the account's live sockets.
    if (action === 'deactivate') await bus.publish({ kind: 'user', user: targetId });
    setFlash(req, 'status', `The account was ${WORDS[action]}.`);
    await saveSession(req);
    const back = typeof req.body?.back === 'string' && req.body.back.startsWith('/admin/users') ? req.body.back : '/admin/users';
    res.redirect(303, back);
  };

  return { listUsers, act };
}
