import pino from 'pino';
import type { Logger } from 'pino';

/**
 * Structured JSON logs on stdout, the format log collectors and `docker logs` expect. Writes are
 * asynchronous (a request never waits for its log line); call `logger.flush()` before exiting.
 */
export function createLogger(level: string): Logger {
  return pino(
    { level, redact: ['req.headers.cookie', 'res.headers["set-cookie"]'] },
    pino.destination({ dest: 1, sync: false }),
  );
}
