/**
 * Fingerprinted URLs for files in public/: `/static/css/site.css?v=<content hash>`. A changed file
 * gets a new URL, so browsers and nginx may cache every URL for a year.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function assetUrls(publicDir: string, { cache }: { cache: boolean }) {
  const hashes = new Map<string, string>();
  return function assetUrl(file: string): string {
    let hash = cache ? hashes.get(file) : undefined;
    if (!hash) {
      try {
        hash = createHash('sha256').update(readFileSync(path.join(publicDir, file))).digest('hex').slice(0, 10);
      } catch {
        hash = 'missing';
      }
      hashes.set(file, hash);
    }
    return `/static/${file}?v=${hash}`;
  };
}

/** Cache-Control for a static response: a year for fingerprinted URLs, an hour otherwise. */
export function staticCacheControl(query: unknown): string {
  const versioned = typeof (query as { v?: unknown } | undefined)?.v === 'string';
  return versioned ? 'public, max-age=31536000, immutable' : 'public, max-age=3600';
}
