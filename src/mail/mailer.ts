/**
 * Outgoing mail through nodemailer. With SMTP_URL, mail goes to that server; without it, outside
 * production, each mail is written to the log instead (its link readable in the terminal), and in
 * production mail is off: the features that need it say so and hide themselves.
 */
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  /** Whether mail can reach people (SMTP configured, or the development log). */
  readonly enabled: boolean;
  /** Whether mail really leaves (SMTP configured), rather than being written to the log. */
  readonly delivers: boolean;
  /**
   * Sends in the background: the caller's answer must not wait for (or reveal) delivery. Failures
   * are logged, never thrown.
   */
  send(mail: Mail): void;
  /** Waits for mails still being sent (shutdown, tests). */
  idle(): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  smtpUrl: string | undefined;
  from: string;
  env: 'development' | 'production' | 'test';
  logger: Logger;
}

export function createMailer({ smtpUrl, from, env, logger }: MailerOptions): Mailer {
  const transport = smtpUrl ? nodemailer.createTransport(smtpUrl) : undefined;
  const inFlight = new Set<Promise<void>>();
  const deliver = async (mail: Mail) => {
    if (!transport) {
      logger.info({ mail: { to: mail.to, subject: mail.subject }, text: mail.text }, 'mail not sent (no SMTP_URL): written here instead');
      return;
    }
    await transport.sendMail({ from, ...mail });
    logger.info({ mail: { to: mail.to, subject: mail.subject } }, 'mail sent');
  };
  return {
    enabled: transport !== undefined || env !== 'production',
    delivers: transport !== undefined,
    send(mail) {
      const sending = deliver(mail)
        .catch((err: unknown) => logger.error({ err, mail: { to: mail.to, subject: mail.subject } }, 'mail could not be sent'))
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    },
    async idle() {
      await Promise.all([...inFlight]);
    },
    close() {
      transport?.close();
    },
  };
}
