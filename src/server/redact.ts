/**
 * Secrets never reach the logs. modelswap logs no request headers at all
 * (the access log in app.ts has method, URL, status and duration only); what
 * remains is the URL, where a misconfigured client may put a key as a query
 * parameter, and any header object someone logs later (LOG_REDACT).
 */

/** Request headers that carry credentials. */
export const SENSITIVE_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'x-api-key', 'cookie'];

/**
 * pino `redact` paths for the logger in main.ts: defence in depth for a
 * future `logger.x({ req })` or `{ headers }`; nothing logs these today.
 */
export const LOG_REDACT: { readonly paths: string[]; readonly censor: string } = {
  paths: SENSITIVE_HEADERS.flatMap((h) => [`req.headers["${h}"]`, `headers["${h}"]`]),
  censor: '[redacted]',
};

/** Query parameters whose values look like credentials (api_key, key, token, access_token, password, …). */
const SECRET_PARAM = /^(?:[^=&#]*(?:key|token|secret|passw(?:or)?d|auth|signature|sig)[^=&#]*)$/i;

/**
 * The request URL as it may be logged: the values of credential-looking query
 * parameters become `[redacted]`; everything else is kept byte for byte.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair;
    let name = pair.slice(0, eq);
    try {
      name = decodeURIComponent(name.replaceAll('+', ' '));
    } catch {
      // a malformed escape in the name: match on the raw text
    }
    return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=[redacted]` : pair;
  });
  return `${url.slice(0, q)}?${query.join('&')}`;
}
