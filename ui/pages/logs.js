/** Logs: the proxy's own log and every upstream's output, live, side by side. */
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { LogView } from '../log-view.js';

export function LogsPage() {
  const [filter, setFilter] = useState('');
  return html`<section>
    <div class="page-head">
      <h1>Logs</h1>
      <input type="search" placeholder="filter lines" value=${filter} onInput=${(/** @type {any} */ e) => setFilter(e.target.value)} />
    </div>
    <div class="logs-grid">
      <${LogView} id="proxy" title="Proxy" filter=${filter} />
      <${LogView} id="upstream" title="Upstream servers" filter=${filter} />
    </div>
  </section>`;
}
