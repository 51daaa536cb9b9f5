/** SQL for the admin pages. */
import type { Pool, PoolClient } from 'pg';

export interface AdminUserRow {
  id: number;
  username: string;
  isActive: boolean;
  isAdmin: boolean;
  createdAt: Date;
  lastLoginAt: Date | null;
  games: number;
}

/** Accounts whose name contains `search` (any case), newest first, one extra row for paging. */
export async function searchUsers(db: Pool, search: string, limit: number, offset: number): Promise<AdminUserRow[]> {
  const { rows } = await db.query<AdminUserRow>(
    `SELECT u.id, u.username, u.is_active AS "isActive", u.is_admin AS "isAdmin", u.created_at AS "createdAt",
            u.last_login_at AS "lastLoginAt",
            (SELECT count(*)::int FROM games g WHERE g.player_x = u.id OR g.player_o = u.id) AS games
       FROM users u
      WHERE u.deleted_at IS NULL AND strpos(lower(u.username), lower($1)) > 0
      ORDER BY u.created_at DESC, u.id DESC
      LIMIT $2 OFFSET $3`,
    [search, limit, offset],
  );
  return rows;
}

export type AdminAction = 'deactivate' | 'activate' | 'grant_admin' | 'remove_admin' | 'create_admin';

/**
 * Applies an action to an account and records it, in one statement each way: the change and its
 * record cannot be separated. Deactivating also voids every session and mailed link of the account.
 */
export async function applyAction(db: Pool | PoolClient, adminId: number | null, targetId: number, action: AdminAction): Promise<boolean> {
  const change: Record<AdminAction, string> = {
    deactivate: `is_active = false, sessions_valid_after = date_trunc('milliseconds', now())`,
    activate: 'is_active = true',
    grant_admin: 'is_admin = true',
    remove_admin: 'is_admin = false',
    create_admin: 'is_admin = true',
  };
  // A deactivated account's mailed links die with its sessions (they would work again on reactivation).
  const links = action === 'deactivate' ? ', links AS (DELETE FROM email_tokens WHERE user_id IN (SELECT id FROM changed))' : '';
  const { rowCount } = await db.query(
    `WITH changed AS (UPDATE users SET ${change[action]} WHERE id = $2 AND deleted_at IS NULL RETURNING id)${links}
     INSERT INTO admin_actions (admin_id, action, target_id) SELECT $1, $3, id FROM changed`,
    [adminId, targetId, action],
  );
  return rowCount === 1;
}

export interface ActionRow {
  admin: string | null;
  action: AdminAction;
  target: string;
  createdAt: Date;
}

export async function recentActions(db: Pool, limit: number): Promise<ActionRow[]> {
  const { rows } = await db.query<ActionRow>(
    `SELECT a.username AS admin, x.action, t.username AS target, x.created_at AS "createdAt"
       FROM admin_actions x
       LEFT JOIN users a ON a.id = x.admin_id
       JOIN users t ON t.id = x.target_id
      ORDER BY x.created_at DESC, x.id DESC LIMIT $1`,
    [limit],
  );
  return rows;
}
