/**
 * Playground: a chat with any model through `/v1/chat/completions`,
 * streamed. `reasoning_content` deltas (a thinking model's reasoning, and
 * the load progress modelswap sends while the model loads) show apart from
 * the answer.
 */
import { useRef, useState } from 'preact/hooks';
import { readEvents } from '../api.js';
import { html } from '../html.js';
import { useStore } from '../store.js';

/** @typedef {{ role: 'user' | 'assistant', content: string, reasoning?: string, error?: string }} Message */

export function PlaygroundPage() {
  const s = useStore();
  const models = s.config.models.map((/** @type {any} */ m) => m.id);
  const [model, setModel] = useState(models[0] ?? '');
  const [input, setInput] = useState('');
  /** @type {[Message[], (m: Message[]) => void]} */
  const [messages, setMessages] = useState(/** @type {Message[]} */ ([]));
  const [busy, setBusy] = useState(false);
  /** @type {import('preact').RefObject<AbortController>} */
  const abort = useRef(null);

  const send = async (/** @type {Event} */ e) => {
    e.preventDefault();
    const text = input.trim();
    if (text === '' || busy) return;
    const history = [...messages, /** @type {Message} */ ({ role: 'user', content: text })];
    /** @type {Message} */
    const answer = { role: 'assistant', content: '', reasoning: '' };
    setMessages([...history, answer]);
    setInput('');
    setBusy(true);
    const ac = new AbortController();
    abort.current = ac;
    const update = () => setMessages([...history, { ...answer }]);
    try {
      await readEvents('/v1/chat/completions', {
        method: 'POST',
        signal: ac.signal,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, stream: true, messages: history.map((m) => ({ role: m.role, content: m.content })) }),
      }, (_type, data) => {
        if (typeof data !== 'object' || data === null) return;
        if (data.error !== undefined) answer.error = String(data.error.message ?? JSON.stringify(data.error));
        const delta = data.choices?.[0]?.delta;
        if (delta?.reasoning_content) answer.reasoning += delta.reasoning_content;
        if (delta?.content) answer.content += delta.content;
        update();
      });
    } catch (err) {
      answer.error = String(/** @type {any} */ (err).message ?? err);
      update();
    } finally {
      setBusy(false);
      abort.current = null;
    }
  };

  return html`<section class="playground">
    <div class="page-head">
      <h1>Playground</h1>
      <select value=${model} onChange=${(/** @type {any} */ e) => setModel(e.target.value)} aria-label="model">
        ${models.map((/** @type {string} */ m) => html`<option value=${m}>${m}</option>`)}
      </select>
      <button onClick=${() => setMessages([])} disabled=${busy}>Clear</button>
    </div>
    <div class="chat">
      ${messages.length === 0 ? html`<p class="muted">Ask something: the answer streams from the model, loading it first if needed.</p>` : null}
      ${messages.map((m) => html`<div class=${`msg ${m.role}`}>
        ${m.reasoning ? html`<details class="reasoning" open><summary>reasoning</summary><pre>${m.reasoning}</pre></details>` : null}
        <div class="content">${m.content}</div>
        ${m.error !== undefined ? html`<p class="error">${m.error}</p>` : null}
      </div>`)}
    </div>
    <form class="ask" onSubmit=${send}>
      <textarea rows="3" placeholder="Message" value=${input} onInput=${(/** @type {any} */ e) => setInput(e.target.value)}
        onKeyDown=${(/** @type {KeyboardEvent} */ e) => { if (e.key === 'Enter' && !e.shiftKey) void send(e); }}></textarea>
      ${busy ? html`<button type="button" onClick=${() => abort.current?.abort()}>Stop</button>` : html`<button type="submit" disabled=${input.trim() === '' || model === ''}>Send</button>`}
    </form>
  </section>`;
}
