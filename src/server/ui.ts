/**
 * The web UI's files: `GET /` redirects to `/ui/`, `/ui/` is the single page
 * (index.html), `/ui/<file>` its modules and stylesheet from the `ui/`
 * folder, and `/ui/vendor/<name>.js` the three browser modules it imports
 * (Preact, its hooks, htm) straight from their installed packages.
 *
 * These files are open: they hold no data, and every API call the page makes
 * carries the key (see ui/api.js). Only a fixed set of names is served:
 * a path never reaches the file system unchecked.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));
const require = createRequire(import.meta.url);

/** The ES module build next to a package's CommonJS entry. */
const beside = (specifier: string, file: string): string => join(dirname(require.resolve(specifier)), file);

const VENDOR = new Map<string, () => string>([
  ['preact.js', () => beside('preact', 'preact.module.js')],
  ['preact-hooks.js', () => beside('preact/hooks', 'hooks.module.js')],
  ['htm.js', () => beside('htm', 'htm.module.js')],
]);

const TYPES = new Map([
  ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.html', 'text/html; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
]);

/** A file of the ui/ folder: lowercase words, one level of folders at most. */
const UI_FILE = /^(?:[a-z0-9-]+\/)?[a-z0-9-]+\.(?:js|css|svg)$/;

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/**
 * The content security policy of the page: its own scripts only, plus the
 * inline import map by its hash (an import map cannot be an external file
 * yet in every browser). Inline styles are allowed for computed widths.
 */
function policy(html: string): string {
  const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  const hash = createHash('sha256').update(map).digest('base64');
  return [
    "default-src 'self'", `script-src 'self' 'sha256-${hash}'`, "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:", "connect-src 'self'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'none'",
  ].join('; ');
}

export class UiFiles {
  /** Read once, on first use (tests and `npm start` alike run from the files on disk). */
  readonly #cache = new Map<string, Asset>();

  /**
   * Answer `path` (GET/HEAD) if it is the UI's: `/` (302 to `/ui/`), `/ui`,
   * `/ui/...`. Returns false for any other path. An unknown file under /ui/
   * is 404; a path without an extension is the page itself (client routes).
   */
  serve(path: string, head: boolean, res: ServerResponse): boolean {
    if (path === '/') {
      res.writeHead(302, { location: '/ui/' });
      res.end();
      return true;
    }
    if (path !== '/ui' && !path.startsWith('/ui/')) return false;
    const rest = path.slice('/ui/'.length);
    let asset: Asset | undefined;
    let page = false;
    if (path === '/ui' || rest === '' || !rest.includes('.')) {
      asset = this.#load('index.html', () => join(UI_DIR, 'index.html'));
      page = true;
    } else if (rest.startsWith('vendor/')) {
      const file = VENDOR.get(rest.slice('vendor/'.length));
      if (file !== undefined) asset = this.#load(rest, file);
    } else if (UI_FILE.test(rest)) {
      asset = this.#load(rest, () => join(UI_DIR, rest));
    }
    if (asset === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found');
      return true;
    }
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': asset.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      ...(page ? { 'content-security-policy': policy(asset.body.toString('utf8')), 'referrer-policy': 'no-referrer' } : {}),
    });
    res.end(head ? undefined : asset.body);
    return true;
  }

  #load(key: string, file: () => string): Asset | undefined {
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    let body: Buffer;
    let name: string;
    try {
      name = file();
      body = readFileSync(name);
    } catch {
      return undefined;
    }
    const asset = { type: TYPES.get(name.slice(name.lastIndexOf('.'))) ?? 'application/octet-stream', body };
    this.#cache.set(key, asset);
    return asset;
  }
}
