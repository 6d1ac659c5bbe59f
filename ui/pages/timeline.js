/**
 * Swap timeline: which model was resident when, every swap and what it cost
 * (stop and load time), and every request as a mark: the part it waited
 * (and why, on hover and in the table) and the part it was served. Drawn
 * from the server's recent past plus the live feed; this is where thrash
 * shows, and where groups, TTLs and the scheduler get tuned.
 */
import { useState } from 'preact/hooks';
import { clock, duration, modelHref, useTicker } from '../format.js';
import { html } from '../html.js';
import { serverNow, useStore } from '../store.js';
import { buildTimeline } from '../timeline-data.js';

/** 0: fit the view to the events kept (at least 10 s, at most an hour). */
const SPANS = [[0, 'fit'], [60_000, '1 min'], [300_000, '5 min'], [900_000, '15 min'], [3_600_000, '1 h']];
const WIDTH = 1200;
const LABEL = 150;
const LANE = 46;
const AXIS = 26;

/** @param {number} span */
function ticks(span) {
  const step = [5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000].find((s) => span / s <= 8) ?? 900_000;
  return step;
}

export function TimelinePage() {
  const s = useStore();
  useTicker(1000);
  const [choice, setChoice] = useState(0);
  const now = serverNow();
  const first = s.events.find((e) => e.type !== 'queue')?.at ?? now;
  const span = choice !== 0 ? choice : Math.min(3_600_000, Math.max(10_000, (now - first) * 1.08));
  const start = now - span;
  const models = s.config.models.map((/** @type {any} */ m) => m.id);
  const t = buildTimeline(s.events, s.models, start, now);
  const x = (/** @type {number} */ at) => LABEL + ((Math.max(at, start) - start) / span) * (WIDTH - LABEL - 10);
  const lane = new Map(models.map((/** @type {string} */ m, /** @type {number} */ i) => [m, i]));
  const height = models.length * LANE + AXIS;
  const inView = (/** @type {number} */ to) => to >= start;
  const swaps = t.swaps.filter((l) => inView(l.end));
  const waits = t.requests.filter((r) => inView(r.end) && r.why !== undefined);
  const swapCost = swaps.reduce((sum, l) => sum + (l.end - l.startedAt), 0);
  const step = ticks(span);
  /** @type {number[]} */
  const marks = [];
  for (let at = Math.ceil(start / step) * step; at <= now; at += step) marks.push(at);

  return html`<section>
    <div class="page-head">
      <h1>Swap timeline</h1>
      <span class="spans">${SPANS.map(([ms, label]) => html`<button class=${choice === ms ? 'on' : ''} onClick=${() => setChoice(/** @type {number} */ (ms))}>${label}</button>`)}</span>
      <span class="muted" data-summary>${swaps.length} swap${swaps.length === 1 ? '' : 's'} in view, ${duration(swapCost)} spent swapping; ${waits.length} request${waits.length === 1 ? '' : 's'} waited</span>
    </div>
    ${s.hasPast ? null : html`<p class="note">The server's recent past is not available: this shows what happened since the page opened.</p>`}
    <svg class="timeline" viewBox=${`0 0 ${WIDTH} ${height}`} role="img" aria-label="swap timeline">
      ${models.map((/** @type {string} */ m, /** @type {number} */ i) => html`<g>
        <rect class=${i % 2 === 0 ? 'lane even' : 'lane'} x="0" y=${i * LANE} width=${WIDTH} height=${LANE} />
        <text class="lane-label" x="8" y=${i * LANE + 18}>${m}</text>
      </g>`)}
      ${marks.map((at) => html`<g class="tick">
        <line x1=${x(at)} x2=${x(at)} y1="0" y2=${height - AXIS} />
        <text x=${x(at)} y=${height - 8} text-anchor="middle">${clock(at)}</text>
      </g>`)}
      ${t.spans.filter((sp) => inView(sp.to) && lane.has(sp.model)).map((sp) => html`<rect class=${`resident ${sp.state}`} x=${x(sp.from)} y=${(lane.get(sp.model) ?? 0) * LANE + 6} width=${Math.max(1, x(sp.to) - x(sp.from))} height="16">
        <title>${sp.model} ${sp.state} ${clock(sp.from)}–${clock(sp.to)} (${duration(sp.to - sp.from)})</title>
      </rect>`)}
      ${swaps.filter((l) => lane.has(l.model)).map((l, i, all) => {
        // a label only where it does not run into the next swap's
        const roomy = i === all.length - 1 || x(all[i + 1]?.startedAt ?? now) - x(l.startedAt) > 60;
        const to = (lane.get(l.model) ?? 0) * LANE;
        const from = Math.min(...l.evicting.map((m) => (lane.get(m) ?? 0) * LANE));
        const [y1, y2] = [Math.min(from, to) + 4, Math.max(from, to) + LANE - 4];
        return html`<g class="swap" data-swap=${`${l.evicting.join(',')}>${l.model}`}>
          <line x1=${x(l.startedAt)} x2=${x(l.startedAt)} y1=${y1} y2=${y2} />
          ${roomy ? html`<text x=${x(l.startedAt) + (x(l.startedAt) > WIDTH - 60 ? -3 : 3)} y=${to + 40} text-anchor=${x(l.startedAt) > WIDTH - 60 ? 'end' : 'start'}>⇄ ${duration(l.end - l.startedAt)}</text>` : null}
          <title>swap ${l.evicting.join(', ')} → ${l.model}: stop ${duration(l.stopMs)}, load ${duration(l.loadMs)} (${l.phase}, for a ${l.reason})</title>
        </g>`;
      })}
      ${t.requests.filter((r) => inView(r.end) && lane.has(r.model)).map((r, i) => {
        const y = (lane.get(r.model) ?? 0) * LANE + 28 + (i % 3) * 5;
        return html`<g class=${r.error !== undefined || (r.status ?? 200) >= 400 ? 'req failed' : 'req'}>
          ${r.waitedMs > 0 ? html`<line class="wait" x1=${x(r.arrival)} x2=${x(r.grant)} y1=${y} y2=${y} />` : null}
          <line class="serve" x1=${x(r.grant)} x2=${Math.max(x(r.end), x(r.grant) + 2)} y1=${y} y2=${y} />
          <title>request ${r.id} to ${r.model}: waited ${duration(r.waitedMs)}${r.why !== undefined ? ` (${r.why})` : ''}, total ${duration(r.end - r.arrival)}${r.status !== undefined ? `, ${r.status}` : ''}${r.error !== undefined ? `, ${r.error}` : ''}</title>
        </g>`;
      })}
    </svg>
    <p class="legend"><span class="key resident ready"></span> ready <span class="key resident starting"></span> loading <span class="key resident stopping"></span> stopping
      <span class="key swapkey"></span> swap <span class="key waitkey"></span> request waiting <span class="key servekey"></span> request served</p>
    <div class="two">
      <div>
        <h2>Swaps</h2>
        <table class="swaps">
          <thead><tr><th>Time</th><th>Swap</th><th>Stop</th><th>Load</th><th>For</th></tr></thead>
          <tbody>${swaps.length === 0 ? html`<tr><td colspan="5" class="muted">No swap in view.</td></tr>` : [...swaps].reverse().map((l) => html`<tr>
            <td>${clock(l.startedAt)}</td>
            <td>${l.evicting.join(', ')} → <a href=${modelHref(l.model)}>${l.model}</a>${l.phase !== 'ready' ? html` <span class="badge">${l.phase}</span>` : null}</td>
            <td class="num">${duration(l.stopMs)}</td><td class="num">${duration(l.loadMs)}</td><td>${l.reason}</td></tr>`)}</tbody>
        </table>
      </div>
      <div>
        <h2>Waits</h2>
        <table class="waits">
          <thead><tr><th>Time</th><th>Model</th><th>Waited</th><th>Why</th></tr></thead>
          <tbody>${waits.length === 0 ? html`<tr><td colspan="4" class="muted">No request waited.</td></tr>` : [...waits].reverse().slice(0, 100).map((r) => html`<tr>
            <td>${clock(r.arrival)}</td><td>${r.model}</td><td class="num">${duration(r.waitedMs)}</td><td>${r.why}</td></tr>`)}</tbody>
        </table>
      </div>
    </div>
  </section>`;
}
