/**
 * Writes the scheduling traces of scenario 4 as JSON data files beside this
 * script. Deterministic (a fixed seed per trace), so rerunning it rewrites
 * the same files; the files, not this script, are what `npm run bench`
 * replays. Run: node bench/traces/generate.ts
 */
import { writeFileSync } from 'node:fs';
import { rng } from '../../test/helpers/load.ts';
import type { Trace, TraceEntry } from '../lib/trace.ts';

const byTime = (a: TraceEntry, b: TraceEntry): number => a.atMs - b.atMs;

function alternating(): Trace {
  const requests: TraceEntry[] = [];
  for (let i = 0; i < 20; i++) {
    requests.push({ atMs: i * 300, client: 'alice', model: 'a', stream: false, maxTokens: 20 });
    requests.push({ atMs: i * 300 + 150, client: 'bob', model: 'b', stream: false, maxTokens: 20 });
  }
  return {
    name: 'alternating-ab',
    description: 'Two clients, one per model, each sending a short chat request every 300 ms for 6 s, interleaved (A, B, A, B, ...).',
    models: { a: { loadMs: 500, tokenMs: 5 }, b: { loadMs: 500, tokenMs: 5 } },
    requests: requests.sort(byTime),
  };
}

function bursty(): Trace {
  const r = rng(20261122);
  const models = ['a', 'b', 'c'];
  const requests: TraceEntry[] = [];
  for (let c = 0; c < 6; c++) {
    const favourite = models[c % 3]!;
    for (let burst = 0; burst < 4; burst++) {
      const model = r() < 0.75 ? favourite : models[Math.floor(r() * 3)]!;
      let at = Math.round(burst * 4000 + r() * 3000);
      const size = 4 + Math.floor(r() * 5);
      for (let k = 0; k < size; k++) {
        requests.push({ atMs: at, client: `client-${c + 1}`, model, stream: r() < 0.4, maxTokens: 10 + Math.floor(r() * 30) });
        at += 20 + Math.floor(r() * 40);
      }
    }
  }
  return {
    name: 'bursty-3models',
    description: 'Six clients over three models (each client mostly uses one), four bursts of 4-8 requests each, bursts at random times within 16 s; 40% streaming.',
    models: { a: { loadMs: 500, tokenMs: 5 }, b: { loadMs: 500, tokenMs: 5 }, c: { loadMs: 500, tokenMs: 5 } },
    requests: requests.sort(byTime),
  };
}

function longStream(): Trace {
  const requests: TraceEntry[] = [{ atMs: 0, client: 'writer', model: 'a', stream: true, maxTokens: 600 }];
  for (let i = 0; i < 40; i++) requests.push({ atMs: 100 + i * 150, client: `chat-${(i % 2) + 1}`, model: 'a', stream: false, maxTokens: 20 });
  for (const at of [500, 1000, 2000, 3500]) requests.push({ atMs: at, client: 'embedder', model: 'b', stream: false, maxTokens: 5 });
  return {
    name: 'long-stream-blocking',
    description: 'One 600-token stream on A (about 3 s), two chat clients sending short A requests every 150 ms for 6 s, and a third client needing B four times meanwhile.',
    models: { a: { loadMs: 500, tokenMs: 5 }, b: { loadMs: 500, tokenMs: 5 } },
    requests: requests.sort(byTime),
  };
}

for (const trace of [alternating(), bursty(), longStream()]) {
  // One request per line, so a trace reads (and diffs) like a log.
  const { requests, ...head } = trace;
  const text = JSON.stringify(head, null, 2).replace(/\n}$/, `,\n  "requests": [\n${requests.map((x) => `    ${JSON.stringify(x)}`).join(',\n')}\n  ]\n}\n`);
  writeFileSync(new URL(`${trace.name}.json`, import.meta.url), text);
  process.stdout.write(`${trace.name}: ${trace.requests.length} requests\n`);
}
