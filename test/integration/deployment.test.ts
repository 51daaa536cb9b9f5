/** The deployment files are valid: compose file, and nginx.conf as the stack script rewrites it. */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, stackNginxConfig } from '../../src/ops/stack.js';
import { ROOT } from '../helpers/process.js';

const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

describe('deployment files', () => {
  it.skipIf(!has('docker-compose'))('docker-compose.yml validates, and insists on a SESSION_SECRET', () => {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
    const ok = spawnSync('docker-compose', ['config'], { cwd: ROOT, encoding: 'utf8', env: { ...env, SESSION_SECRET: 's'.repeat(40) } });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/replicas: 2/);
    expect(ok.stdout).toMatch(/published: 8080/);
    expect(ok.stdout).toMatch(/condition: service_healthy/);
    const missing = spawnSync('docker-compose', ['config', '-q'], { cwd: ROOT, encoding: 'utf8', env });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('Set SESSION_SECRET');
  });

  it('the stack rewrites only the lines of nginx.conf marked "stack:"', () => {
    const source = readFileSync(path.join(ROOT, 'nginx.conf'), 'utf8');
    const rewritten = stackNginxConfig(source, { dir: '/tmp/x', port: 9999, upstreams: [4001, 4002] });
    const before = source.split('\n').filter((line) => !line.includes('# stack:'));
    const after = rewritten.split('\n');
    for (const line of before) expect(after).toContain(line);
    expect(rewritten).toContain('server 127.0.0.1:4001 max_fails=1 fail_timeout=5s;');
    expect(rewritten).toContain('server 127.0.0.1:4002 max_fails=1 fail_timeout=5s;');
    expect(rewritten).toContain('listen 127.0.0.1:9999;');
    expect(rewritten).toContain(`alias ${path.join(ROOT, 'public')}/;`);
    expect(rewritten).not.toContain('server 127.0.0.1:3000 ');
    // The stack has no app-dns.conf beside its nginx.conf: every request goes to the group above.
    expect(rewritten).toContain('set $app_upstream app;');
    expect(rewritten).toContain('include app-dns*.conf;');
  });

  /**
   * The Dockerfile's nginx target: nginx.conf as it is, with docker/nginx-app-dns.conf beside it as
   * app-dns.conf. nginx must accept the pair (the include sets Docker's resolver, the name "app" and
   * a shorter connect timeout at the server level, where nginx.conf sets none of them).
   */
  it.skipIf(!has('nginx'))('nginx accepts the Docker configuration: nginx.conf with app-dns.conf beside it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ttt-nginx-'));
    try {
      copyFileSync('/etc/nginx/mime.types', path.join(dir, 'mime.types'));
      copyFileSync(path.join(ROOT, 'docker/nginx-app-dns.conf'), path.join(dir, 'app-dns.conf'));
      // Only the files nginx writes move into the folder (the test's stderr may be a pipe nginx cannot open); the proxying is the image's.
      const config = readFileSync(path.join(ROOT, 'nginx.conf'), 'utf8')
        .replace(/^(\s*)pid .*$/m, `$1pid ${dir}/nginx.pid;`)
        .replace(/^(\s*)error_log .*$/m, `$1error_log ${dir}/error.log warn;`)
        .replace(/^(\s*)access_log .*$/m, `$1access_log ${dir}/access.log main;`)
        .replace(/^(\s*)(\w+_temp_path) .*$/gm, `$1$2 ${dir}/$2;`);
      writeFileSync(path.join(dir, 'nginx.conf'), config);
      const check = spawnSync('nginx', ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
      expect(check.stderr).toContain('test is successful');
      const dump = spawnSync('nginx', ['-T', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
      expect(dump.stdout).toContain('set $app_upstream app:3000;');
      expect(dump.stdout).toContain('resolver 127.0.0.11 valid=1s ipv6=off;');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!has('nginx'))('nginx accepts the rewritten configuration', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ttt-nginx-'));
    try {
      copyFileSync('/etc/nginx/mime.types', path.join(dir, 'mime.types'));
      const config = stackNginxConfig(readFileSync(path.join(ROOT, 'nginx.conf'), 'utf8'), { dir, port: 18080, upstreams: [4001] });
      writeFileSync(path.join(dir, 'nginx.conf'), config);
      const check = spawnSync('nginx', ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
      expect(check.stderr).toContain('test is successful');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /**
   * The app closes an idle keep-alive connection after 5 s. Were nginx to keep it longer, it could
   * send a request down it the instant the app closes it, and a POST (never retried) would come
   * back 502: nginx must be the one to close first.
   */
  it.skipIf(!has('nginx'))('nginx closes an idle connection to the app before the app would', { timeout: 20_000 }, async () => {
    const APP_KEEP_ALIVE_MS = 5_000;
    const upstream = createServer((_req, res) => res.end('ok'));
    upstream.keepAliveTimeout = APP_KEEP_ALIVE_MS;
    let closedAfter = -1;
    upstream.on('connection', (socket) => {
      const opened = Date.now();
      socket.on('end', () => (closedAfter = Date.now() - opened)); // the peer (nginx) closed it
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const dir = mkdtempSync(path.join(tmpdir(), 'ttt-nginx-'));
    const port = await freePort();
    copyFileSync('/etc/nginx/mime.types', path.join(dir, 'mime.types'));
    const config = stackNginxConfig(readFileSync(path.join(ROOT, 'nginx.conf'), 'utf8'), { dir, port, upstreams: [(upstream.address() as AddressInfo).port] });
    writeFileSync(path.join(dir, 'nginx.conf'), config);
    const nginx = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    try {
      let status = 0;
      for (let tries = 0; tries < 50 && status !== 200; tries += 1) {
        status = await new Promise<number>((resolve) => {
          get(`http://127.0.0.1:${port}/healthz`, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', () => setTimeout(() => resolve(0), 100));
        });
      }
      expect(status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, APP_KEEP_ALIVE_MS + 500));
      expect(closedAfter).toBeGreaterThan(0);
      expect(closedAfter).toBeLessThan(APP_KEEP_ALIVE_MS);
    } finally {
      nginx.kill('SIGTERM');
      upstream.closeAllConnections();
      upstream.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
