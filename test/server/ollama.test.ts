/** Ollama-shaped lists: fields present with Ollama's names, and expires_at from the TTL, as tables. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import type { RunningInfo } from '../../src/router/router.ts';
import { NEVER_EXPIRES, ollamaPs, ollamaTags } from '../../src/server/ollama.ts';

const row = (model: string, over: Partial<RunningInfo> = {}): RunningInfo => ({
  model, state: 'ready', inFlight: 0, queued: 0, pid: 1, proxy: 'http://127.0.0.1:1', cmd: 'x', ttl: 0, ttlLeft: null, name: undefined, description: undefined, ...over,
});

test('/api/ps: expires_at is never / last use + ttl / now if busy past it / now + ttl when the last use is unknown', () => {
  const now = Date.parse('2026-01-01T00:00:00.000Z');
  const used = new Map([['idle', now - 10_000], ['busy-late', now - 10_000]]);
  const { models } = ollamaPs([
    row('forever', { ttl: 0 }),
    row('idle', { ttl: 60 }),
    row('busy-late', { ttl: 5, inFlight: 1 }),
    row('unknown', { ttl: 60 }),
  ], (m) => used.get(m), now);
  const expires = Object.fromEntries(models.map((m) => [m.name, m.expires_at]));
  assert.deepEqual(expires, {
    forever: NEVER_EXPIRES,
    idle: new Date(now + 50_000).toISOString(),
    'busy-late': new Date(now).toISOString(),
    unknown: new Date(now + 60_000).toISOString(),
  });
});

test('/api/ps: a countdown the router runs is now + what is left of it', () => {
  const now = Date.parse('2026-01-01T00:00:00.000Z');
  const { models } = ollamaPs([row('counting', { ttl: 60, ttlLeft: 57.5 })], () => now - 10_000, now);
  assert.equal(models[0]!.expires_at, new Date(now + 57_500).toISOString());
});

test('/api/ps lists only models whose server is not stopped, with every field Ollama clients read', () => {
  const { models } = ollamaPs([row('a'), row('b', { state: 'starting' }), row('c', { state: 'stopped', queued: 1 }), row('d', { state: 'stopping' })], () => undefined, Date.now());
  assert.deepEqual(models.map((m) => m.name), ['a', 'b', 'd']);
  assert.deepEqual(Object.keys(models[0]!).sort(), ['context_length', 'details', 'digest', 'expires_at', 'model', 'name', 'size', 'size_vram']);
  assert.deepEqual(Object.keys(models[0]!.details).sort(), ['families', 'family', 'format', 'parameter_size', 'parent_model', 'quantization_level']);
});

test('/api/tags lists what /v1/models lists (aliases with includeAliasesInList, no unlisted), with Ollama field names', () => {
  const config = parseConfig(`
includeAliasesInList: true
models:
  b: { cmd: "x --port \${PORT}", aliases: [b-alias] }
  a: { cmd: "x --port \${PORT}" }
  hidden: { cmd: "x --port \${PORT}", unlisted: true }
`, { env: {} });
  const created = 1_700_000_000;
  const { models } = ollamaTags(config, () => 'stopped', created);
  assert.deepEqual(models.map((m) => [m.name, m.model]), [['a', 'a'], ['b', 'b'], ['b-alias', 'b-alias']]);
  assert.equal(models[0]!.modified_at, new Date(created * 1000).toISOString());
  assert.deepEqual(Object.keys(models[0]!).sort(), ['details', 'digest', 'model', 'modified_at', 'name', 'size']);
  assert.equal(models[0]!.size, 0);
  assert.deepEqual(models[0]!.details.families, []);
});
