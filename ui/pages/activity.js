/**
 * Activity: the request history, filtered, paged and exported (CSV, JSON).
 * It reads `GET /api/metrics/activity` (`{data, page, limit, total,
 * total_pages}`, llama-swap's shape); when this modelswap has no such
 * endpoint (404) it falls back to the requests of the live feed (the
 * server's last hour, plus what happened since the page opened) and says so.
 */
import { useEffect, useState } from 'preact/hooks';
import { getJson } from '../api.js';
import { clock, duration } from '../format.js';
import { html } from '../html.js';
import { useStore } from '../store.js';

const LIMIT = 50;

/**
 * @typedef {{ id: number, at: number, model: string, path: string, status: number | undefined, prompt?: number, generated?: number, speed?: number, waitedMs?: number, durationMs?: number, error?: string }} Row
 */

/** @param {any} v */
const num = (v) => (typeof v === 'number' && v >= 0 ? v : undefined);

/** A row of /api/metrics/activity, whatever its exact field names. @param {any} r @returns {Row} */
function fromApi(r) {
  const t = r.timestamp ?? r.ts_created ?? r.time ?? r.created_at;
  return {
    id: r.id, at: typeof t === 'number' ? (t < 1e12 ? t * 1000 : t) : Date.parse(t), model: r.model ?? r.model_id ?? '', path: r.req_path ?? '',
    status: r.resp_status_code ?? r.status, prompt: num(r.input_tokens ?? r.prompt_tokens), generated: num(r.output_tokens ?? r.completion_tokens),
    speed: num(r.tokens_per_second), durationMs: num(r.duration_ms), error: r.error_msg || undefined,
  };
}

/** A request `done` event of the feed. @param {any} e @returns {Row} */
function fromEvent(e) {
  return {
    id: e.id, at: e.at, model: e.model, path: '', status: e.status, prompt: e.usage?.promptTokens, generated: e.usage?.completionTokens,
    speed: e.usage?.tokensPerSecond, waitedMs: e.waitedMs, durationMs: e.durationMs, error: e.error,
  };
}

/** @param {Row[]} rows @param {'csv' | 'json'} kind */
function download(rows, kind) {
  const cols = /** @type {(keyof Row)[]} */ (['id', 'at', 'model', 'path', 'status', 'prompt', 'generated', 'speed', 'waitedMs', 'durationMs', 'error']);
  const cell = (/** @type {unknown} */ v) => (v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
  const text = kind === 'json'
    ? JSON.stringify(rows.map((r) => ({ ...r, time: new Date(r.at).toISOString() })), null, 2)
    : [['time', ...cols].join(','), ...rows.map((r) => [new Date(r.at).toISOString(), ...cols.map((c) => cell(r[c]))].join(','))].join('\n');
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type: kind === 'json' ? 'application/json' : 'text/csv' }));
  a.download = `modelswap-activity.${kind}`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export function ActivityPage() {
  const s = useStore();
  const [model, setModel] = useState('');
  const [outcome, setOutcome] = useState('all');
  const [page, setPage] = useState(1);
  /** @type {[any, (v: any) => void]} */
  const [remote, setRemote] = useState(null);
  /** 'api' | 'fallback' | 'loading' | an error message */
  const [source, setSource] = useState('loading');

  useEffect(() => {
    const q = new URLSearchParams({ page: String(page), limit: String(LIMIT), sort: 'id', order: 'desc' });
    if (model !== '') q.append('model', model);
    getJson(`/api/metrics/activity?${q}`)
      .then((body) => {
        setRemote(body);
        setSource('api');
      })
      .catch((err) => setSource(err.status === 404 ? 'fallback' : String(err.message)));
  }, [model, page, source === 'api' ? s.events.length : 0]);

  const keep = (/** @type {Row} */ r) => outcome === 'all' || (outcome === 'ok') === (r.error === undefined && (r.status ?? 200) < 400);
  /** @type {Row[]} */
  let rows;
  let pages;
  if (source === 'api' && remote !== null) {
    rows = (remote.data ?? []).map(fromApi).filter(keep);
    pages = remote.total_pages ?? 1;
  } else {
    const all = s.events.filter((e) => e.type === 'request' && e.phase === 'done' && (model === '' || e.model === model)).map(fromEvent).filter(keep).reverse();
    pages = Math.max(1, Math.ceil(all.length / LIMIT));
    rows = all.slice((page - 1) * LIMIT, page * LIMIT);
  }
  const exportAll = async (/** @type {'csv' | 'json'} */ kind) => {
    if (source !== 'api') {
      download(s.events.filter((e) => e.type === 'request' && e.phase === 'done' && (model === '' || e.model === model)).map(fromEvent).filter(keep), kind);
      return;
    }
    /** @type {Row[]} */
    const out = [];
    for (let p = 1; p <= 20; p++) {
      const q = new URLSearchParams({ page: String(p), limit: '999', sort: 'id', order: 'desc' });
      if (model !== '') q.append('model', model);
      const body = await getJson(`/api/metrics/activity?${q}`);
      out.push(...(body.data ?? []).map(fromApi).filter(keep));
      if (p >= (body.total_pages ?? 1)) break;
    }
    download(out, kind);
  };
  return html`<section>
    <div class="page-head">
      <h1>Activity</h1>
      <select value=${model} onChange=${(/** @type {any} */ e) => { setModel(e.target.value); setPage(1); }} aria-label="model">
        <option value="">all models</option>
        ${s.config.models.map((/** @type {any} */ m) => html`<option value=${m.id}>${m.id}</option>`)}
      </select>
      <select value=${outcome} onChange=${(/** @type {any} */ e) => setOutcome(e.target.value)} aria-label="outcome">
        <option value="all">all outcomes</option><option value="ok">succeeded</option><option value="failed">failed</option>
      </select>
      <button onClick=${() => void exportAll('csv')}>Export CSV</button>
      <button onClick=${() => void exportAll('json')}>Export JSON</button>
    </div>
    ${source === 'fallback' ? html`<p class="note" data-fallback>This modelswap keeps no activity history (<code>/api/metrics/activity</code> answered 404): these are the requests of the live event feed, from the server's last hour and since this page opened, kept in memory only.</p>` : null}
    ${source !== 'api' && source !== 'fallback' && source !== 'loading' ? html`<p class="error">Activity history unavailable: ${source}. Showing the live feed's requests.</p>` : null}
    <table class="activity">
      <thead><tr><th>ID</th><th>Time</th><th>Model</th>${source === 'api' ? html`<th>Path</th>` : html`<th>Waited</th>`}<th>Status</th><th>Prompt</th><th>Generated</th><th>tok/s</th><th>Duration</th></tr></thead>
      <tbody>${rows.length === 0 ? html`<tr><td colspan="9" class="muted">No requests yet.</td></tr>` : rows.map((r) => html`<tr data-request=${r.id}>
        <td class="num">${r.id}</td><td>${clock(r.at)}</td><td>${r.model}</td>
        ${source === 'api' ? html`<td>${r.path}</td>` : html`<td class="num">${duration(r.waitedMs)}</td>`}
        <td class=${r.error !== undefined || (r.status ?? 200) >= 400 ? 'error' : ''} title=${r.error ?? ''}>${r.status ?? (r.error !== undefined ? 'failed' : '–')}</td>
        <td class="num">${r.prompt ?? '–'}</td><td class="num">${r.generated ?? '–'}</td><td class="num">${r.speed !== undefined ? r.speed.toFixed(1) : '–'}</td>
        <td class="num">${duration(r.durationMs)}</td></tr>`)}</tbody>
    </table>
    <div class="pager">
      <button disabled=${page <= 1} onClick=${() => setPage(page - 1)}>‹ newer</button>
      <span>page ${page} of ${pages}</span>
      <button disabled=${page >= pages} onClick=${() => setPage(page + 1)}>older ›</button>
    </div>
  </section>`;
}
