import { describe, expect, it } from 'vitest';
import { safeNextPath } from '../../src/web/locals.js';

describe('safeNextPath', () => {
  it.each(['/', '/account', '/games/abc123?tab=moves#board', '/users/alice', '/a/b/../c', '/search?q=https://x.example'])(
    'keeps the local path %j',
    (value) => {
      expect(safeNextPath(value)).toBe(value);
    },
  );

  it.each([
    ['another site', 'https://evil.example'],
    ['another site, plain http', 'http://evil.example/account'],
    ['a protocol-relative URL', '//evil.example'],
    ['a protocol-relative URL with a path', '//evil.example/account'],
    ['a backslash that browsers read as a slash', '/\\evil.example'],
    ['a backslash later on', '/account\\..\\\\evil.example'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a data: URL', 'data:text/html,<script>alert(1)</script>'],
    ['a relative path', 'account'],
    ['a tab, which browsers strip', '/\t/evil.example'],
    ['a newline (header injection)', '/account\r\nSet-Cookie: x=1'],
    ['a NUL byte', '/account\u0000'],
    ['DEL', '/account\u007f'],
    ['an empty string', ''],
    ['a very long path', `/${'a'.repeat(500)}`],
  ])('refuses %s', (_what, value) => {
    expect(safeNextPath(value)).toBe('/');
  });

  it.each([undefined, null, 42, ['/account'], { path: '/account' }])('refuses a non-string %j', (value) => {
    expect(safeNextPath(value)).toBe('/');
  });

  it('keeps a path of up to 500 characters', () => {
    const path = `/${'a'.repeat(499)}`;
    expect(safeNextPath(path)).toBe(path);
  });
});
