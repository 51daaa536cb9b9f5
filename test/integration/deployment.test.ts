/** The deployment files are valid: compose file, and nginx.conf as the stack script rewrites it. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stackNginxConfig } from '../../src/ops/stack.js';
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
    expect(rewritten).not.toContain('server app:3000');
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
});
