/**
 * Models: every listed model by group, with its live state, pid, requests
 * in flight and waiting, TTL countdown, load progress (elapsed against the
 * estimate from earlier loads) and load / unload buttons.
 */
import { useState } from 'preact/hooks';
import { postJson } from '../api.js';
import { duration, modelHref, useTicker } from '../format.js';
import { html } from '../html.js';
import { serverNow, useStore } from '../store.js';

/** @param {{ load: import('../store.js').LoadInfo, state: string }} p */
export function LoadBar({ load, state }) {
  const elapsed = load.elapsedMs + (Date.now() - load.seenAt);
  const est = load.estimateMs;
  const pct = est === undefined || est <= 0 ? undefined : Math.min(99, (elapsed / est) * 100);
  const stopping = state === 'stopped' && load.evicting.length > 0 ? `stopping ${load.evicting.join(', ')} · ` : '';
  const label = `${stopping}${duration(elapsed)}${est === undefined ? ' (first load: no estimate yet)' : ` of ~${duration(est)}`}`;
  return html`<div class="loadbar" title=${load.evicting.length > 0 ? `stopping ${load.evicting.join(', ')} first` : ''}>
    <div class=${pct === undefined ? 'fill unknown' : 'fill'} style=${pct === undefined ? '' : `width:${pct}%`}></div>
    <span>${label}</span>
  </div>`;
}

/** @param {{ model: any, live: import('../store.js').ModelLive }} p */
function Ttl({ model, live }) {
  if (model.ttl <= 0) return html`<span class="muted">never</span>`;
  if (live.state !== 'ready' || live.inFlight + live.waiting > 0 || live.idleSince === undefined) return html`<span class="muted">${duration(model.ttl * 1000)}</span>`;
  const left = model.ttl * 1000 - (serverNow() - live.idleSince);
  return html`<span class="ttl" title="unloads after this much more idle time">${left > 0 ? duration(left) : 'due'}</span>`;
}

/** @param {{ model: any }} p */
export function ModelActions({ model }) {
  const s = useStore();
  const live = s.models.get(model.id);
  const [error, setError] = useState('');
  const act = (/** @type {'load' | 'unload'} */ what) => {
    setError('');
    postJson(`/api/models/${what}/${model.id.split('/').map(encodeURIComponent).join('/')}`).catch((err) => setError(String(err.message)));
  };
  const stopped = live === undefined || live.state === 'stopped' || live.state === 'shutdown';
  return html`<span class="actions">
    <button class="load" onClick=${() => act('load')} disabled=${!stopped || live?.load !== undefined}>Load</button>
    <button class="unload" onClick=${() => act('unload')} disabled=${stopped}>Unload</button>
    ${error !== '' ? html`<span class="error" title=${error}>${error.slice(0, 120)}</span>` : null}
  </span>`;
}

/** @param {{ model: any }} p */
function ModelRow({ model }) {
  const s = useStore();
  const live = s.models.get(model.id) ?? { state: 'stopped', inFlight: 0, waiting: 0 };
  return html`<tr data-model=${model.id} class=${`state-${live.state}`}>
    <td>
      <a href=${modelHref(model.id)} class="model-id">${model.id}</a>
      ${model.name !== undefined && model.name !== null ? html`<div class="muted">${model.name}</div>` : null}
      ${model.aliases.length > 0 ? html`<div class="aliases">${model.aliases.map((a) => html`<code>${a}</code> `)}</div>` : null}
    </td>
    <td><span class=${`badge ${live.state}`} data-state=${live.state}>${live.state}</span>
      ${live.load !== undefined ? html`<${LoadBar} load=${live.load} state=${live.state} />` : null}</td>
    <td class="num">${live.pid ?? '–'}</td>
    <td class="num" title="in flight / waiting">${live.inFlight} / ${live.waiting}</td>
    <td><${Ttl} model=${model} live=${live} /></td>
    <td><${ModelActions} model=${model} /></td>
  </tr>`;
}

/** @param {any} g */
function groupNote(g) {
  const parts = [];
  if (g.swap) parts.push('one member at a time');
  else parts.push('members run together');
  if (g.exclusive) parts.push('exclusive: unloads other groups');
  if (g.persistent) parts.push('persistent: never evicted by others');
  return parts.join(' · ');
}

export function ModelsPage() {
  const s = useStore();
  useTicker(500);
  const [error, setError] = useState('');
  const config = s.config;
  const listed = new Set(config.models.map((/** @type {any} */ m) => m.id));
  const byId = new Map(config.models.map((/** @type {any} */ m) => [m.id, m]));
  const groups = config.groups.filter((/** @type {any} */ g) => g.members.some((/** @type {string} */ m) => listed.has(m)));
  const unloadAll = () => {
    setError('');
    postJson('/api/models/unload').catch((err) => setError(String(err.message)));
  };
  return html`<section>
    <div class="page-head">
      <h1>Models</h1>
      <span class="muted">scheduler: <b>${config.scheduler}</b>${config.scheduler === 'serial' ? ' (one model at a time; groups ignored)' : ''}</span>
      <button onClick=${unloadAll}>Unload all</button>
      ${error !== '' ? html`<span class="error">${error}</span>` : null}
    </div>
    ${groups.map((/** @type {any} */ g) => html`<div class="group" data-group=${g.id}>
      <h2>${g.id === '(default)' ? 'Ungrouped' : g.id} <small class="muted">${groupNote(g)}</small></h2>
      <table class="models">
        <thead><tr><th>Model</th><th>State</th><th>PID</th><th>Requests</th><th>TTL</th><th></th></tr></thead>
        <tbody>${g.members.filter((/** @type {string} */ m) => listed.has(m)).map((/** @type {string} */ m) => html`<${ModelRow} key=${m} model=${byId.get(m)} />`)}</tbody>
      </table>
    </div>`)}
  </section>`;
}
