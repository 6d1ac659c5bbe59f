/**
 * The shell: navigation, hash routes (`#/models`, `#/model/<id>`,
 * `#/activity`, `#/timeline`, `#/logs`, `#/playground`), the connection
 * badge and the API-key prompt.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { onUnauthorized, storedKey, storeKey } from './api.js';
import { html } from './html.js';
import { ActivityPage } from './pages/activity.js';
import { LogsPage } from './pages/logs.js';
import { ModelPage } from './pages/model.js';
import { ModelsPage } from './pages/models.js';
import { PlaygroundPage } from './pages/playground.js';
import { TimelinePage } from './pages/timeline.js';
import { changed, connect, store, useStore } from './store.js';

const PAGES = [
  ['models', 'Models'],
  ['timeline', 'Swap timeline'],
  ['activity', 'Activity'],
  ['logs', 'Logs'],
  ['playground', 'Playground'],
];

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.replace(/^#\/?/, '');
}

function KeyPrompt() {
  const [key, setKey] = useState('');
  const submit = (/** @type {Event} */ e) => {
    e.preventDefault();
    storeKey(key.trim());
    connect();
  };
  return html`<div class="overlay">
    <form class="key-prompt" onSubmit=${submit}>
      <h2>API key needed</h2>
      <p>This modelswap has <code>apiKeys</code> set. Enter one of them: it is kept in this browser (localStorage) and sent as <code>Authorization: Bearer</code> with every call.</p>
      ${storedKey() !== '' ? html`<p class="error">The stored key was refused.</p>` : null}
      <input type="password" name="apiKey" autocomplete="current-password" placeholder="API key" value=${key} onInput=${(/** @type {any} */ e) => setKey(e.target.value)} autofocus />
      <button type="submit" disabled=${key.trim() === ''}>Use this key</button>
    </form>
  </div>`;
}

/** @param {{ route: string }} p */
function Page({ route }) {
  const [name, ...rest] = route.split('/');
  switch (name) {
    case 'model': return html`<${ModelPage} id=${decodeURIComponent(rest.join('/'))} />`;
    case 'timeline': return html`<${TimelinePage} />`;
    case 'activity': return html`<${ActivityPage} />`;
    case 'logs': return html`<${LogsPage} />`;
    case 'playground': return html`<${PlaygroundPage} />`;
    default: return html`<${ModelsPage} />`;
  }
}

function App() {
  const s = useStore();
  const route = useHash();
  const active = route.split('/')[0] || 'models';
  const forget = () => {
    storeKey('');
    connect();
  };
  return html`<header class="top">
      <a class="brand" href="#/models"><img src="/ui/icon.svg" alt="" width="22" height="22" /> modelswap</a>
      <nav>${PAGES.map(([id, label]) => html`<a href=${`#/${id}`} class=${active === id || (active === 'model' && id === 'models') ? 'active' : ''}>${label}</a>`)}</nav>
      <span class=${`conn ${s.connected ? 'on' : 'off'}`} title="the live event feed (/api/events)">${s.connected ? 'live' : 'offline'}</span>
      ${storedKey() !== '' ? html`<button class="link" onClick=${forget}>forget key</button>` : null}
    </header>
    <main>
      ${s.error !== null ? html`<p class="error">Cannot read the configuration: ${s.error}</p>` : null}
      ${s.config === null ? (s.needKey ? null : html`<p class="muted">Connecting…</p>`) : html`<${Page} route=${route} />`}
    </main>
    ${s.needKey ? html`<${KeyPrompt} />` : null}`;
}

onUnauthorized(() => {
  store.needKey = true;
  changed();
});
const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(html`<${App} />`, root);
}
connect();
