import pino from 'pino';
import type { Logger } from 'pino';

/** Structured JSON logs on stdout, the format log collectors and `docker logs` expect. */
export function createLogger(level: string): Logger {
  return pino({ level, redact: ['req.headers.cookie', 'res.headers["set-cookie"]'] });
}
