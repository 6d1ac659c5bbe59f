/**
 * A live log pane: `/logs/stream/<id>` (its history, then new output as it
 * comes) read with fetch streaming, kept to the last 256 KiB, following the
 * end unless the reader scrolled up. ANSI colour codes are stripped; the
 * proxy's JSON lines are shown as text.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { readStream } from './api.js';
import { html } from './html.js';

const KEEP = 256 * 1024;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

const LEVELS = new Map([[10, 'TRACE'], [20, 'DEBUG'], [30, 'INFO'], [40, 'WARN'], [50, 'ERROR'], [60, 'FATAL']]);

/**
 * A JSON log line of the proxy as `time LEVEL msg key=value …`; any other
 * line as it is.
 * @param {string} line
 */
export function readable(line) {
  if (!line.startsWith('{')) return line;
  try {
    const { level, time, msg, ...rest } = JSON.parse(line);
    const at = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : String(time ?? '');
    const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
    return `${at} ${(LEVELS.get(level) ?? String(level)).padEnd(5)} ${msg ?? ''}${fields === '' ? '' : `  ${fields}`}`;
  } catch {
    return line;
  }
}

/** @param {{ id: string, title: string, filter?: string }} p */
export function LogView({ id, title, filter = '' }) {
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  /** @type {import('preact').RefObject<HTMLPreElement>} */
  const pre = useRef(null);
  const follow = useRef(true);
  useEffect(() => {
    const ac = new AbortController();
    let buffer = '';
    let pending = false;
    setText('');
    setError('');
    readStream(`/logs/stream/${id.split('/').map(encodeURIComponent).join('/')}`, { signal: ac.signal }, (chunk) => {
      buffer = (buffer + chunk.replace(ANSI, '')).slice(-KEEP);
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        setText(buffer);
      });
    }).catch((err) => {
      if (!ac.signal.aborted) setError(String(err.message ?? err));
    });
    return () => ac.abort();
  }, [id]);
  useEffect(() => {
    const el = pre.current;
    if (el !== null && follow.current) el.scrollTop = el.scrollHeight;
  });
  const onScroll = () => {
    const el = pre.current;
    if (el !== null) follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
  };
  const lines = text.split('\n').map(readable);
  const shown = (filter === '' ? lines : lines.filter((l) => l.toLowerCase().includes(filter.toLowerCase()))).join('\n');
  return html`<div class="log-view" data-log=${id}>
    <h3>${title}</h3>
    ${error !== '' ? html`<p class="error">${error}</p>` : null}
    <pre ref=${pre} onScroll=${onScroll}>${shown === '' ? html`<span class="muted">(nothing yet)</span>` : shown}</pre>
  </div>`;
}
