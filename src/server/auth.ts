/**
 * API-key check. The key may come as the password of `Authorization: Basic`,
 * as `Authorization: Bearer`, or as `x-api-key` (llama-swap's order).
 * Comparison is constant-time over SHA-256 digests, so neither content nor
 * length leaks through timing. Keys are forwarded upstream unchanged
 * (llama-server `--api-key` setups keep working).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The key a request presents, if any. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth !== undefined) {
    const [scheme, rest] = [auth.slice(0, auth.indexOf(' ')).toLowerCase(), auth.slice(auth.indexOf(' ') + 1).trim()];
    if (scheme === 'basic') {
      const decoded = Buffer.from(rest, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon >= 0 ? decoded.slice(colon + 1) : decoded;
    }
    if (scheme === 'bearer') return rest;
  }
  const x = headers['x-api-key'];
  return Array.isArray(x) ? x[0] : x;
}

export class ApiKeyCheck {
  readonly #digests: readonly Buffer[];

  constructor(keys: readonly string[]) {
    this.#digests = keys.map(digest);
  }

  get enabled(): boolean {
    return this.#digests.length > 0;
  }

  /** True when no keys are configured or the request presents one of them. */
  allows(headers: IncomingHttpHeaders): boolean {
    if (this.#digests.length === 0) return true;
    const key = presentedKey(headers);
    if (key === undefined || key === '') return false;
    const d = digest(key);
    let ok = false;
    for (const k of this.#digests) ok = timingSafeEqual(k, d) || ok; // no early exit
    return ok;
  }
}
