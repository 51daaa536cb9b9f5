/** Values every template can use: the signed-in user, the page path and a one-time message. */
import type { RequestHandler } from 'express';
import type { Flash } from './session.js';

export const viewLocals: RequestHandler = (req, res, next) => {
  res.locals.user = req.user ?? null;
  res.locals.path = req.path;
  res.locals.flash = null;
  if (req.session?.flash) {
    res.locals.flash = req.session.flash;
    delete req.session.flash;
  }
  next();
};

/** A message shown once, on the next page the user sees. */
export function setFlash(req: Express.Request, role: Flash['role'], text: string) {
  req.session.flash = { role, text };
}

/** Only same-site paths: `next=https://evil.example` or `//evil.example` fall back to home. */
export function safeNextPath(value: unknown): string {
  if (typeof value !== 'string' || value.length > 500) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  // Control characters and backslashes let some browsers reinterpret the target.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return '/';
  return value;
}
