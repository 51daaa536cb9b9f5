/** A real SMTP server (the smtp-server package) on a free loopback port, keeping what it receives. */
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../src/net.js';

export interface ReceivedMail {
  to: string[];
  raw: string;
  /** The first https?:// link in the body. */
  link: string | undefined;
}

export interface TestSmtp {
  url: string;
  mails: ReceivedMail[];
  /** The next mail to `to` (already received or still to come). */
  next(to: string, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  const waiters: (() => void)[] = [];
  const seen = new Set<ReceivedMail>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (raw += chunk));
      stream.on('end', () => {
        // Quoted-printable soft line breaks would cut a long link in two.
        const body = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
        const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        mails.push({ to, raw: body, link: /https?:\/\/[^\s]+/.exec(body.split(/\r?\n\r?\n/).slice(1).join('\n'))?.[0] });
        for (const wake of waiters.splice(0)) wake();
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    next(to, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no mail to ${to} within ${timeoutMs} ms`)), timeoutMs);
        const look = () => {
          const mail = mails.find((m) => !seen.has(m) && m.to.includes(to.toLowerCase()));
          if (!mail) return waiters.push(look);
          seen.add(mail);
          clearTimeout(timer);
          resolve(mail);
        };
        look();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
