/**
 * One embedded PostgreSQL server for the whole test run, started by the product's own code on a
 * temporary DATA_DIR, exactly as `npm start` starts it; test files create their databases on it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { TestProject } from 'vitest/node';
import { startEmbeddedServer } from '../src/db/embedded.js';

declare module 'vitest' {
  export interface ProvidedContext {
    embeddedUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ttt-test-embedded-'));
  const server = await startEmbeddedServer(dataDir, pino({ level: 'silent' }));
  project.provide('embeddedUrl', server.url);
  return async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
