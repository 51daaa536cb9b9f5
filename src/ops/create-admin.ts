/**
 * The first admin (and any later one) is made from the command line:
 *
 *   npm run create-admin -- <username>                 (or, in the container: create-admin <username>)
 *
 * An existing account is promoted. Otherwise a new admin account is created with a password typed
 * at a hidden prompt or, when stdin is not a terminal (scripts), read from its first line.
 */
import { createInterface } from 'node:readline';
import password from '@inquirer/password';
import { applyAction } from '../admin/store.js';
import { hashPassword, isReservedUsername, passwordProblem, USERNAME_PATTERN } from '../auth/passwords.js';
import { findAccountByUsername, insertAccount } from '../auth/store.js';
import { loadConfigOrExit } from '../config.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { createLogger } from '../logger.js';

async function readPassword(username: string): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await password({ message: `Password for the new admin ${username}:`, mask: '*' });
    const again = await password({ message: 'The same password again:', mask: '*' });
    if (first !== again) throw new Error('The passwords do not match.');
    return first;
  }
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) return line;
  throw new Error('No password on standard input.');
}

async function main(username: string | undefined): Promise<string> {
  if (!username) throw new Error('Usage: npm run create-admin -- <username>');
  const config = loadConfigOrExit();
  const logger = createLogger('warn');
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, whenInUse: 'share', logger });
  try {
    await migrate(db.url, logger);
    const existing = await findAccountByUsername(db.pool, username);
    if (existing) {
      await applyAction(db.pool, null, existing.id, 'create_admin');
      return `${existing.username} is now an admin.`;
    }
    if (!USERNAME_PATTERN.test(username) || isReservedUsername(username)) {
      throw new Error('A username is 3 to 20 letters, digits, _ - or ., and not a reserved name.');
    }
    const secret = await readPassword(username);
    const problem = passwordProblem(secret, username);
    if (problem) throw new Error(problem);
    const id = await insertAccount(db.pool, username, await hashPassword(secret, config.bcryptCost));
    if (id === undefined) throw new Error('That username was just taken.');
    await applyAction(db.pool, null, id, 'create_admin');
    return `Created the admin account ${username}.`;
  } finally {
    await db.close();
  }
}

main(process.argv[2]).then(
  (message) => console.log(message),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
