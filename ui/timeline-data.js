/**
 * The swap timeline's model, from feed events alone (pure: no DOM, no
 * clock but the `now` passed in):
 *
 * 1. residency: per model, the intervals it was starting, ready or stopping;
 * 2. loads: each finished (or running) load with what it evicted and its
 *    stop and load times: a load that evicted something is a swap;
 * 3. requests: each finished request's arrival, grant and end, and why it
 *    waited: for a load of its own model, behind another model's load, or
 *    queued behind requests being served.
 */

/**
 * @typedef {{ model: string, state: string, from: number, to: number }} Span
 * @typedef {{ model: string, startedAt: number, end: number, evicting: string[], stopMs?: number, loadMs?: number, phase: string, reason: string, error?: string }} Load
 * @typedef {{ id: number, model: string, arrival: number, grant: number, end: number, waitedMs: number, status?: number, error?: string, why?: string }} Req
 */

/** The state a model was probably in before its first event in view. */
const BEFORE = new Map([['starting', 'stopped'], ['ready', 'starting'], ['stopping', 'ready'], ['stopped', 'ready'], ['shutdown', 'ready']]);

/** Requests that waited less than this are not explained. */
const NOTICEABLE_WAIT_MS = 50;
/** One load ending and the next starting within this are one after the other. */
const SAME_MOMENT_MS = 50;

/**
 * @param {any[]} events feed events, oldest first
 * @param {Map<string, { state: string, load?: { startedAt: number, evicting: string[], reason: string } }>} live each model's state now
 * @param {number} start the view's start (ms since the epoch)
 * @param {number} now
 */
export function buildTimeline(events, live, start, now) {
  // (1) residency
  /** @type {Span[]} */
  const spans = [];
  /** @type {Map<string, { state: string, since: number }>} */
  const at = new Map();
  for (const ev of events) {
    if (ev.type !== 'model') continue;
    const cur = at.get(ev.model) ?? { state: BEFORE.get(ev.state) ?? 'stopped', since: start };
    if (cur.state !== 'stopped' && cur.state !== 'shutdown' && ev.at > cur.since) spans.push({ model: ev.model, state: cur.state, from: cur.since, to: ev.at });
    at.set(ev.model, { state: ev.state, since: ev.at });
  }
  for (const [model, l] of live) {
    const cur = at.get(model) ?? { state: l.state, since: start };
    if (cur.state !== 'stopped' && cur.state !== 'shutdown') spans.push({ model, state: cur.state, from: cur.since, to: now });
  }

  // (2) loads
  /** @type {Load[]} */
  const loads = [];
  for (const ev of events) {
    if (ev.type !== 'load' || ev.phase === 'started' || ev.phase === 'progress') continue;
    loads.push({ model: ev.model, startedAt: ev.startedAt, end: ev.at, evicting: ev.evicting, stopMs: ev.stopMs, loadMs: ev.loadMs, phase: ev.phase, reason: ev.reason, error: ev.error });
  }
  for (const [model, l] of live) {
    if (l.load !== undefined) loads.push({ model, startedAt: l.load.startedAt, end: now, evicting: l.load.evicting, phase: 'loading', reason: l.load.reason });
  }

  // (3) requests
  /** @type {Req[]} */
  const requests = [];
  for (const ev of events) {
    if (ev.type !== 'request' || ev.phase !== 'done') continue;
    const arrival = ev.at - ev.durationMs;
    requests.push({ id: ev.id, model: ev.model, arrival, grant: arrival + ev.waitedMs, end: ev.at, waitedMs: ev.waitedMs, status: ev.status, error: ev.error });
  }
  for (const r of requests) r.why = whyWaited(r, loads, requests);
  return { spans, loads, requests, swaps: loads.filter((l) => l.evicting.length > 0) };
}

/**
 * Why `r` waited, in words, or undefined when it hardly did.
 * @param {Req} r @param {Load[]} loads @param {Req[]} requests
 */
export function whyWaited(r, loads, requests) {
  if (r.waitedMs < NOTICEABLE_WAIT_MS) return undefined;
  const during = (/** @type {number} */ from, /** @type {number} */ to) => from < r.grant && to > r.arrival;
  const own = loads.find((l) => l.model === r.model && during(l.startedAt, l.end));
  if (own !== undefined) {
    const swap = own.evicting.length > 0 ? ` (a swap: ${own.evicting.join(', ')} stopped first)` : '';
    // loads that had to finish before this one could start (not those running beside it)
    const before = [...new Set(loads.filter((l) => l.model !== r.model && l.end <= own.startedAt + SAME_MOMENT_MS && during(l.startedAt, l.end)).map((l) => l.model))];
    return `${before.length > 0 ? `queued behind a load of ${before.join(', ')}, then ` : ''}waited for a load of ${r.model}${swap}`;
  }
  const other = loads.find((l) => during(l.startedAt, l.end));
  if (other !== undefined) return `queued behind a load of ${other.model}`;
  const ahead = requests.filter((q) => q !== r && q.grant <= r.grant && during(q.grant, q.end));
  if (ahead.length > 0) {
    /** @type {Map<string, number>} */
    const count = new Map();
    for (const q of ahead) count.set(q.model, (count.get(q.model) ?? 0) + 1);
    return `queued behind ${[...count].map(([m, n]) => `${n} request${n === 1 ? '' : 's'} of ${m}`).join(' and ')}`;
  }
  return 'waited (no load or request in view explains it)';
}
