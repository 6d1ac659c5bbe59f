/**
 * Talking to modelswap: every call carries the API key the user entered
 * (kept in localStorage) as `Authorization: Bearer`, and `X-Requested-With`
 * so a 401 comes without the Basic challenge that would open the browser's
 * own login dialog. A 401 asks the page for a key (onUnauthorized).
 */

const KEY = 'modelswap.apiKey';

/** @type {Set<() => void>} */
const unauthorizedListeners = new Set();

export function storedKey() {
  try {
    return localStorage.getItem(KEY) ?? '';
  } catch {
    return '';
  }
}

/** @param {string} key an empty key forgets the stored one */
export function storeKey(key) {
  if (key === '') localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, key);
}

/** @param {() => void} fn */
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export class HttpError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** @param {HeadersInit | undefined} extra */
function headers(extra) {
  const h = new Headers(extra);
  const key = storedKey();
  if (key !== '') h.set('authorization', `Bearer ${key}`);
  h.set('x-requested-with', 'modelswap-ui');
  return h;
}

/**
 * fetch with the key; a non-2xx answer throws HttpError with the server's
 * error message.
 * @param {string} url @param {RequestInit} [init]
 */
export async function apiFetch(url, init = {}) {
  const res = await fetch(url, { ...init, headers: headers(init.headers) });
  if (res.ok) return res;
  if (res.status === 401) for (const fn of unauthorizedListeners) fn();
  let message = `${res.status} ${res.statusText}`;
  try {
    const text = await res.text();
    const body = JSON.parse(text);
    message = body?.error?.message ?? text;
  } catch {
    /* keep the status line */
  }
  throw new HttpError(res.status, message);
}

/** @param {string} url */
export async function getJson(url) {
  return (await apiFetch(url)).json();
}

/** @param {string} url @param {unknown} [body] */
export async function postJson(url, body) {
  const init = body === undefined ? { method: 'POST' } : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
  return apiFetch(url, init);
}

/**
 * Read a streamed answer chunk by chunk as text (fetch streaming: EventSource
 * cannot send the key). Resolves when the stream ends or `signal` aborts.
 * @param {string} url @param {RequestInit} init @param {(text: string) => void} onText
 */
export async function readStream(url, init, onText) {
  const res = await apiFetch(url, init);
  if (res.body === null) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      onText(value);
    }
  } catch (err) {
    if (init.signal?.aborted) return;
    throw err;
  } finally {
    reader.releaseLock();
  }
}

/**
 * Server-Sent Events over readStream: calls onEvent(type, data) per event
 * whose data is JSON; comments and malformed events are skipped.
 * @param {string} url @param {RequestInit} init @param {(type: string, data: any) => void} onEvent
 */
export function readEvents(url, init, onEvent) {
  let buffer = '';
  return readStream(url, init, (text) => {
    buffer += text.replaceAll('\r\n', '\n');
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let type = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) type = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length === 0) continue;
      let parsed;
      try {
        parsed = JSON.parse(data.join('\n'));
      } catch {
        parsed = data.join('\n');
      }
      onEvent(type, parsed);
    }
  });
}
