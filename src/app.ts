/**
 * Builds the Express app: the middleware order and the route table, in one readable place.
 * server.ts gives it a database and listens; tests build it the same way.
 */
import { fileURLToPath } from 'node:url';
import express, { type Express, type RequestHandler } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Config } from './config.js';
import { loadUser, requireUser } from './auth/middleware.js';
import { createAuthLimiter, DEFAULT_AUTH_LIMITS, type AuthLimitRules } from './auth/rate-limit.js';
import { deviceCookies } from './auth/device.js';
import { authRoutes } from './auth/routes.js';
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import type { EventBus } from './db/events.js';
import { createMailer, type Mailer } from './mail/mailer.js';
import { recoveryRoutes } from './recovery/routes.js';
import type { Random } from './game/ai.js';
import type { Computer } from './game/engines/index.js';
import { createAnalyser } from './game/analyser.js';
import type { GameDeps } from './game/service.js';
import { gameRefusals, gameRoutes } from './game/routes.js';
import { homeRoute } from './home/routes.js';
import { lobbyRoutes } from './lobby/routes.js';
import { adminRoutes, requireAdmin } from './admin/routes.js';
import { userRoutes } from './users/routes.js';
import { assetUrls, staticCacheControl } from './web/assets.js';
import { csrfProtection, csrfTokenLocal, recheckSession, sameOriginPosts, staleForms } from './web/csrf.js';
import { errorHandler, notFound } from './web/errors.js';
import { refuseNulCharacters } from './web/input.js';
import { viewLocals } from './web/locals.js';
import { securityHeaders } from './web/security.js';
import { createSession, refreshSessionExpiry } from './web/session.js';

const root = (dir: string) => fileURLToPath(new URL(`../${dir}`, import.meta.url));

/** Form posts on this site are a few short fields; anything bigger is refused with 413. */
const BODY_LIMIT = '8kb';

export interface AppDeps {
  config: Config;
  pool: Pool;
  logger: Logger;
  /** Live events between instances (LISTEN/NOTIFY). */
  bus: EventBus;
  /** Tests shorten the windows; everyone else gets the defaults. */
  authLimits?: AuthLimitRules;
  /** Outgoing mail; by default made from the configuration (SMTP_URL, MAIL_FROM). */
  mailer?: Mailer;
  /** The computer's moves in every variant (Ultimate's through the engine's worker pool). */
  computer: Computer;
  /** Tests move time forward and fix the computer's choices. */
  clock?: () => number;
  random?: Random;
  /** Tests make game pages without JavaScript reload faster than PAGE_RELOAD_SECONDS. */
  pageReloadSeconds?: number;
}

export function buildApp({
  config,
  pool,
  logger,
  bus,
  mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, env: config.env, logger }),
  authLimits = DEFAULT_AUTH_LIMITS,
  computer,
  clock = Date.now,
  random = Math.random,
  pageReloadSeconds,
}: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('views', root('views'));
  app.set('view engine', 'ejs');
  if (config.env === 'production') app.enable('view cache');

  const session = createSession({ pool, secret: config.sessionSecret, secureCookies: config.secureCookies });
  const analyser = createAnalyser({ db: pool, bus, computer, logger });
  const gameDeps = { db: pool, bus, clock, random, computer, analyser };
  const handlers = features({ config, pool, bus, mailer, authLimits, gameDeps, pageReloadSeconds });
  mountProbesAndAssets(app, config, pool, handlers.recovery.enabled);
  mountMiddleware(app, config, pool, logger, session.middleware);
  mountRoutes(app, handlers);
  app.use('/games/:id', handlers.gameRefusals);
  app.use(notFound);
  app.use(staleForms);
  app.use(errorHandler);

  /** The client address of a request that is not Express's (the WebSocket upgrade), by the same trust-proxy rule. */
  const clientAddress = (req: IncomingMessage) => proxyaddr(req, app.get('trust proxy fn') as (addr: string, i: number) => boolean);
  return { app, sessionStore: session.store, sessionMiddleware: session.middleware, gameDeps, mailer, clientAddress };
}

/** Every feature's request handlers, wired to their dependencies. */
function features({ config, pool, bus, mailer, authLimits, gameDeps, pageReloadSeconds }: Required<Pick<AppDeps, 'config' | 'pool' | 'bus' | 'mailer' | 'authLimits'>> & { gameDeps: GameDeps; pageReloadSeconds: number | undefined }) {
  const limiter = createAuthLimiter(pool, authLimits);
  const recovery = recoveryRoutes({ db: pool, bcryptCost: config.bcryptCost, mailer, limiter, bus, publicOrigin: config.publicOrigin, env: config.env });
  const auth = authRoutes({
    games: gameDeps,
    db: pool,
    bcryptCost: config.bcryptCost,
    secureCookies: config.secureCookies,
    limiter,
    devices: deviceCookies({ secret: config.sessionSecret, secureCookies: config.secureCookies }),
    bus,
    confirmAddress: recovery.confirmAddress,
  });
  const gameRouteDeps = { ...gameDeps, publicOrigin: config.publicOrigin, pageReloadSeconds };
  return {
    recovery,
    auth,
    games: gameRoutes(gameRouteDeps),
    gameRefusals: gameRefusals(gameRouteDeps),
    lobby: lobbyRoutes({ db: pool, clock: gameDeps.clock }),
    users: userRoutes({ db: pool }),
    admin: adminRoutes({ db: pool, bus, games: gameDeps }),
  };
}

type Handlers = ReturnType<typeof features>;

/** Probes and static files first: no session, no database, no log line each. */
function mountProbesAndAssets(app: Express, config: Config, pool: Pool, canRecover: boolean) {
  app.get('/healthz', (_req, res) => {
    res.type('text').send('ok');
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await pool.query('SELECT 1');
      res.type('text').send('ready');
    } catch {
      res.status(503).type('text').send('database unavailable');
    }
  });
  // nginx serves /static/ in production; this is for `npm start` without it.
  app.use(
    '/static',
    express.static(root('public'), {
      index: false,
      setHeaders: (res) => res.setHeader('Cache-Control', staticCacheControl(res.req.query)),
    }),
  );
  app.locals.asset = assetUrls(root('public'), { cache: config.env === 'production' });
  // Social previews need absolute image URLs; known when the public origin is configured.
  app.locals.origin = config.publicOrigin ?? '';
  // The login page links to "Forgot your password?" only where reset mails can be sent.
  app.locals.canRecover = canRecover;
}

/** The middleware every page goes through, in order: logging, headers, session, user, CSRF, bodies. */
function mountMiddleware(app: Express, config: Config, pool: Pool, logger: Logger, session: RequestHandler) {
  app.use(
    pinoHttp({
      logger,
      // One short line per request: who asked for what, and how it ended.
      serializers: {
        req: (req: { id: unknown; method: string; url: string; remoteAddress: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
          ip: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      },
    }),
  );
  app.use(securityHeaders({ https: config.secureCookies }));
  app.use(session);
  app.use(refreshSessionExpiry);
  app.use(loadUser());
  app.use(csrfTokenLocal);
  app.use(viewLocals);
  app.use(sameOriginPosts(config.publicOrigin));
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 50 }));
  app.use(express.json({ limit: BODY_LIMIT }));
  app.use(refuseNulCharacters);
  app.use(csrfProtection);
  app.use(recheckSession(pool));
}

/** The route table: every path, who may use it, and its handler. */
function mountRoutes(app: Express, { recovery, auth, games, lobby, users, admin }: Handlers) {
  app.get('/', homeRoute(lobby.showLobby));
  app.get('/lobby/lists', requireUser, lobby.showLists);
  app.get('/login', auth.showLogin);
  app.post('/login', auth.postLogin);
  app.get('/register', auth.showRegister);
  app.post('/register', auth.postRegister);
  app.get('/logout', auth.showLogout);
  app.post('/logout', auth.postLogout);
  app.get('/forgot', recovery.requireEnabled, recovery.showForgot);
  app.post('/forgot', recovery.requireEnabled, recovery.postForgot);
  app.get('/reset/:token', recovery.requireEnabled, recovery.openResetLink);
  app.get('/reset', recovery.requireEnabled, recovery.showReset);
  app.post('/reset', recovery.requireEnabled, recovery.postReset);
  app.use('/account', recovery.accountLocals);
  app.get('/account', requireUser, auth.showAccount);
  app.post('/account/password', requireUser, auth.postPassword);
  app.post('/account/sessions', requireUser, auth.postOtherSessions);
  app.post('/account/delete', requireUser, auth.postDelete);
  app.post('/account/email', requireUser, recovery.postEmail);
  app.get('/account/email/confirm/:token', recovery.showConfirmLink);
  app.post('/account/email/confirm', recovery.postConfirmLink);
  app.get('/users/:username', users.showProfile);
  app.get('/leaderboard', users.showLeaderboard);
  app.get('/admin/users', requireAdmin, admin.listUsers);
  app.post('/admin/users/:id/:action', requireAdmin, admin.act);
  app.post('/games', requireUser, games.create);
  app.get('/games/:id', games.show);
  app.get('/games/:id/hint', requireUser, games.hint);
  app.post('/games/:id/join', requireUser, games.join);
  app.post('/games/:id/moves', requireUser, games.move);
  app.post('/games/:id/resign', requireUser, games.resign);
  app.post('/games/:id/claim', requireUser, games.claim);
  app.post('/games/:id/rematch', requireUser, games.rematch);
}
