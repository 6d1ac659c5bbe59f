/**
 * One model: its live state, its command as a line a POSIX shell runs
 * unchanged, its settings, its recent requests and its live log.
 */
import { useState } from 'preact/hooks';
import { clock, duration, useTicker } from '../format.js';
import { html } from '../html.js';
import { LogView } from '../log-view.js';
import { useStore } from '../store.js';
import { LoadBar, ModelActions } from './models.js';

/** @param {{ text: string }} p */
function CopyButton({ text }) {
  const [done, setDone] = useState(false);
  const copy = () => {
    void navigator.clipboard?.writeText(text).then(() => setDone(true));
  };
  return html`<button class="small" onClick=${copy}>${done ? 'copied' : 'copy'}</button>`;
}

/** @param {{ id: string }} p */
export function ModelPage({ id }) {
  const s = useStore();
  useTicker(500);
  const model = s.config.models.find((/** @type {any} */ m) => m.id === id);
  if (model === undefined) return html`<p class="error">No listed model is called <code>${id}</code>.</p>`;
  const live = s.models.get(id) ?? { state: 'stopped', inFlight: 0, waiting: 0 };
  const requests = s.events.filter((e) => e.type === 'request' && e.phase === 'done' && e.model === id).slice(-50).reverse();
  const history = s.events.filter((e) => (e.type === 'model' || (e.type === 'load' && e.phase !== 'started')) && e.model === id).slice(-20).reverse();
  return html`<section class="model-page" data-model=${id}>
    <div class="page-head">
      <h1>${id}</h1>
      <span class=${`badge ${live.state}`} data-state=${live.state}>${live.state}</span>
      ${live.pid !== undefined ? html`<span class="muted">pid ${live.pid}</span>` : null}
      <${ModelActions} model=${model} />
    </div>
    ${live.load !== undefined ? html`<${LoadBar} load=${live.load} state=${live.state} />` : null}
    ${model.description ? html`<p>${model.description}</p>` : null}
    <dl class="facts">
      <dt>Name</dt><dd>${model.name ?? '–'}</dd>
      <dt>Aliases</dt><dd>${model.aliases.length > 0 ? model.aliases.join(', ') : '–'}</dd>
      <dt>Group</dt><dd>${model.group ?? '–'}</dd>
      <dt>TTL</dt><dd>${model.ttl > 0 ? duration(model.ttl * 1000) : 'never unloaded for idleness'}</dd>
      <dt>Requests</dt><dd>${live.inFlight} in flight, ${live.waiting} waiting</dd>
    </dl>
    <h2>Command <${CopyButton} text=${model.shell} /></h2>
    <pre class="cmd" data-cmd>${model.shell}</pre>
    <div class="two">
      <div>
        <h2>Recent requests</h2>
        <table>
          <thead><tr><th>Time</th><th>Status</th><th>Waited</th><th>Total</th><th>Tokens</th></tr></thead>
          <tbody>${requests.length === 0 ? html`<tr><td colspan="5" class="muted">None yet.</td></tr>` : requests.map((r) => html`<tr>
            <td>${clock(r.at)}</td><td>${r.status ?? (r.error !== undefined ? 'failed' : '–')}</td>
            <td class="num">${duration(r.waitedMs)}</td><td class="num">${duration(r.durationMs)}</td>
            <td class="num">${r.usage?.completionTokens ?? '–'}</td></tr>`)}</tbody>
        </table>
      </div>
      <div>
        <h2>State changes</h2>
        <table>
          <thead><tr><th>Time</th><th>Event</th></tr></thead>
          <tbody>${history.length === 0 ? html`<tr><td colspan="2" class="muted">None yet.</td></tr>` : history.map((e) => html`<tr>
            <td>${clock(e.at)}</td>
            <td>${e.type === 'model'
              ? `${e.state}${e.reason !== undefined ? ` (${e.reason}${e.evictedBy !== undefined ? ` by ${e.evictedBy}` : ''})` : ''}`
              : `load ${e.phase}: stop ${duration(e.stopMs)}, load ${duration(e.loadMs)}${e.error !== undefined ? `: ${e.error}` : ''}`}</td></tr>`)}</tbody>
        </table>
      </div>
    </div>
    <${LogView} id=${id} title="Log" />
  </section>`;
}
