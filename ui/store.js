/**
 * The page's one live state, fed by `GET /api/events` (read with fetch
 * streaming, reconnected when it drops) and seeded with the server's recent
 * past (`GET /api/events/recent`) and the UI config (`GET /api/ui/config`).
 * Components read it through useStore(), which re-renders them at most once
 * per animation frame.
 */
import { useEffect, useState } from 'preact/hooks';
import { getJson, readEvents } from './api.js';

/**
 * @typedef {{ startedAt: number, elapsedMs: number, estimateMs?: number, evicting: string[], reason: string, seenAt: number }} LoadInfo
 * @typedef {{ state: string, pid?: number, inFlight: number, waiting: number, load?: LoadInfo, idleSince?: number }} ModelLive
 */

const MAX_EVENTS = 5000;

export const store = {
  /** @type {any} GET /api/ui/config, once known */
  config: null,
  /** @type {string | null} why the config could not be read */
  error: null,
  /** A 401 was seen: the page asks for a key. */
  needKey: false,
  connected: false,
  /** When this page opened (its own clock). */
  openedAt: Date.now(),
  /** Server clock minus this page's clock, in ms (for countdowns). */
  skew: 0,
  /** @type {Map<string, ModelLive>} */
  models: new Map(),
  /** @type {any[]} feed events, oldest first, without load progress */
  events: [],
  /** Whether `events` goes back before the page opened (the server kept a recent past). */
  hasPast: false,
  dropped: 0,
};

/** @type {Set<() => void>} */
const listeners = new Set();
let scheduled = false;

export function changed() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    for (const l of listeners) l();
  });
}

/** Re-render the calling component when the store changes. */
export function useStore() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((n) => n + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return store;
}

/** The server's "now", for countdowns and progress. */
export const serverNow = () => Date.now() + store.skew;

/** @param {string} id */
function live(id) {
  let m = store.models.get(id);
  if (m === undefined) {
    m = { state: 'stopped', inFlight: 0, waiting: 0 };
    store.models.set(id, m);
  }
  return m;
}

/** @param {any[]} snapshot */
function applySnapshot(snapshot) {
  for (const s of snapshot) {
    const m = live(s.model);
    m.state = s.state;
    m.pid = s.pid;
    m.inFlight = s.inFlight;
    m.waiting = s.waiting;
    m.load = s.load === undefined ? undefined : { ...s.load, seenAt: Date.now() };
    if (s.state !== 'ready' || s.inFlight + s.waiting > 0) m.idleSince = undefined;
  }
}

/** Apply one feed event to the models' live state. @param {any} ev */
function applyEvent(ev) {
  const m = live(ev.model);
  switch (ev.type) {
    case 'model':
      m.state = ev.state;
      // a stopped model's event names the process that ended: it is no longer there
      m.pid = ev.state === 'stopped' || ev.state === 'shutdown' ? undefined : ev.pid;
      if (ev.state === 'ready') m.idleSince ??= ev.at;
      else m.idleSince = undefined;
      if (ev.state === 'stopped') m.load = undefined;
      break;
    case 'load':
      if (ev.phase === 'started' || ev.phase === 'progress') {
        m.load = { startedAt: ev.startedAt, elapsedMs: ev.elapsedMs, estimateMs: ev.estimateMs, evicting: ev.evicting, reason: ev.reason, seenAt: Date.now() };
      } else {
        m.load = undefined;
        if (ev.phase === 'ready') m.idleSince = ev.at;
      }
      break;
    case 'queue':
      m.inFlight = ev.inFlight;
      m.waiting = ev.waiting;
      m.idleSince = ev.inFlight + ev.waiting === 0 ? ev.at : undefined;
      break;
    case 'request':
      if (ev.phase === 'done' && m.inFlight + m.waiting === 0) m.idleSince = ev.at;
      break;
    default:
      break;
  }
}

/** @param {any} ev */
function remember(ev) {
  if (ev.type === 'load' && ev.phase === 'progress') return;
  store.events.push(ev);
  if (store.events.length > MAX_EVENTS) store.events.splice(0, store.events.length - MAX_EVENTS);
}

let generation = 0;
/** @type {AbortController | undefined} */
let current;

/** (Re)start everything: config, the recent past, then the live feed. */
export function connect() {
  current?.abort();
  const ac = new AbortController();
  current = ac;
  const gen = ++generation;
  store.needKey = false;
  store.error = null;
  store.models = new Map();
  store.events = [];
  changed();
  getJson('/api/ui/config')
    .then((c) => {
      if (gen !== generation) return;
      store.config = c;
      for (const m of c.models) live(m.id);
      changed();
      void follow(ac.signal, gen);
    })
    .catch((err) => {
      if (gen !== generation) return;
      if (err.status === 401) store.needKey = true;
      else store.error = String(err.message ?? err);
      changed();
    });
}

/**
 * Read /api/events until aborted, reconnecting after a drop. The recent past
 * is fetched once the stream's snapshot arrived, so nothing falls between the
 * two; events seen on both sides are kept once.
 * @param {AbortSignal} signal @param {number} gen
 */
async function follow(signal, gen) {
  let delay = 500;
  let seeded = false;
  while (!signal.aborted && gen === generation) {
    /** @type {any[]} */
    const early = [];
    let seeding = !seeded;
    try {
      await readEvents('/api/events?logs=none', { signal }, (type, data) => {
        if (type === 'snapshot') {
          store.connected = true;
          delay = 500;
          applySnapshot(data.models);
          store.skew = data.at - Date.now();
          if (seeding) {
            seeding = false;
            void seed(early, signal, () => {
              seeded = true;
            });
          }
        } else if (type === 'dropped') {
          store.dropped += data.count;
        } else if (type !== 'log') {
          applyEvent(data);
          if (seeded) remember(data);
          else early.push(data);
        }
        changed();
      });
    } catch (err) {
      if (/** @type {any} */ (err).status === 401) {
        store.needKey = true;
        store.connected = false;
        changed();
        return;
      }
    }
    store.connected = false;
    changed();
    if (signal.aborted) return;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 5000);
  }
}

/**
 * @param {any[]} early events streamed before the past arrived
 * @param {AbortSignal} signal
 * @param {() => void} done called in the same step the events are merged
 */
async function seed(early, signal, done) {
  try {
    const past = await getJson('/api/events/recent');
    if (signal.aborted) return;
    const seen = new Set(early.map((e) => JSON.stringify(e)));
    store.events = [...past.events.filter((/** @type {any} */ e) => !seen.has(JSON.stringify(e))), ...early];
    store.hasPast = true;
    done();
    // idle-since times the snapshot cannot tell: the last event of each idle model
    for (const ev of past.events) {
      const m = store.models.get(ev.model);
      if (m !== undefined && m.state === 'ready' && m.inFlight + m.waiting === 0) m.idleSince = Math.max(m.idleSince ?? 0, ev.at);
    }
  } catch {
    store.events = early;
    done();
  }
  changed();
}
