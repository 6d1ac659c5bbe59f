import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { listModels, resolveModel } from '../../src/server/models.ts';

const yaml = (includeAliases: boolean): string => `
includeAliasesInList: ${includeAliases}
models:
  b-model:
    cmd: s --port \${PORT}
    aliases: [zeta, alpha]
    name: B
    description: the b model
    metadata: { size: 7, tags: [x] }
  a-model:
    cmd: s --port \${PORT}
  hidden:
    cmd: s --port \${PORT}
    unlisted: true
`;

test('the model list: sorted, unlisted hidden, metadata under meta.llamaswap, status from the process', () => {
  const config = parseConfig(yaml(false), { env: {} });
  const list = listModels(config, (m) => (m === 'a-model' ? 'ready' : 'stopped'), 1700000000);
  assert.equal(list.object, 'list');
  assert.deepEqual(list.data.map((m) => m.id), ['a-model', 'b-model']);
  const b = list.data[1]!;
  assert.deepEqual({ name: b.name, description: b.description, owned_by: b.owned_by, created: b.created }, { name: 'B', description: 'the b model', owned_by: 'modelswap', created: 1700000000 });
  assert.deepEqual(b.meta?.llamaswap, { size: 7, tags: ['x'], type: 'model', aliases: ['zeta', 'alpha'] });
  assert.deepEqual(list.data.map((m) => m.status.value), ['loaded', 'unloaded']);
});

test('includeAliasesInList adds one entry per alias, pointing at its model', () => {
  const config = parseConfig(yaml(true), { env: {} });
  const list = listModels(config, () => 'stopped', 0);
  assert.deepEqual(list.data.map((m) => m.id), ['a-model', 'alpha', 'b-model', 'zeta']);
  assert.deepEqual(list.data.find((m) => m.id === 'zeta')?.meta?.llamaswap, { size: 7, tags: ['x'], type: 'alias', modelID: 'b-model' });
});

test('resolveModel: ids and aliases resolve; unknown names list the listed models only', () => {
  const config = parseConfig(yaml(false), { env: {} });
  assert.equal(resolveModel(config, 'alpha'), 'b-model');
  assert.equal(resolveModel(config, 'hidden'), 'hidden', 'unlisted models are still routable');
  assert.throws(() => resolveModel(config, 'nope'), (e: Error & { code?: string }) =>
    e.code === 'MODEL_NOT_FOUND' && /a-model, b-model/.test(e.message) && !/hidden/.test(e.message));
});

test('capabilities render as llama-swap renders them, and take over metadata keys of the same names', () => {
  const config = parseConfig(`
models:
  vision:
    cmd: s --port \${PORT}
    metadata: { context_length: 1, architecture: x, family: f }
    capabilities: { in: [text, image, audio], out: [text, audio], tools: true, reranker: true, context: 32000 }
  painter:
    cmd: s --port \${PORT}
    capabilities: { in: [image], out: [image] }
  ctx-only:
    cmd: s --port \${PORT}
    capabilities: { context: 4096 }
  none:
    cmd: s --port \${PORT}
    metadata: { context_length: 1 }
    capabilities: { in: [], tools: false }
`, { env: {} });
  const byId = new Map(listModels(config, () => 'stopped', 0).data.map((r) => [r.id, r]));
  const v = byId.get('vision')!;
  assert.deepEqual(v.architecture, { input_modalities: ['text', 'image', 'audio'], output_modalities: ['text', 'audio'], modality: 'text+image+audio->text+audio' });
  assert.deepEqual(v.capabilities, { vision: true, audio_transcriptions: true, audio_speech: true, function_calling: true, reranker: true });
  assert.deepEqual(v.supported_parameters, ['tools', 'tool_choice']);
  assert.equal(v.context_length, 32000);
  assert.deepEqual(v.meta, { llamaswap: { family: 'f', type: 'model' }, n_ctx: 32000 });
  assert.deepEqual(Object.keys(v), ['id', 'object', 'created', 'owned_by', 'architecture', 'capabilities', 'supported_parameters', 'context_length', 'meta', 'status']);
  const p = byId.get('painter')!;
  assert.deepEqual(p.architecture, { input_modalities: ['image'], output_modalities: ['image'], modality: 'image->image' });
  assert.deepEqual(p.capabilities, { vision: true, image_to_image: true });
  assert.equal(p.supported_parameters, undefined);
  const c = byId.get('ctx-only')!;
  assert.deepEqual([c.architecture, c.capabilities, c.context_length, c.meta.n_ctx], [undefined, undefined, 4096, 4096]);
  const n = byId.get('none')!;
  assert.deepEqual([n.context_length, n.meta], [undefined, { llamaswap: { context_length: 1, type: 'model' } }]);
});

test('peers, selectors and the active profile\'s pins are listed as llama-swap lists them', () => {
  const config = parseConfig(`
models:
  a: { cmd: "s \${PORT}", aliases: [a1] }
  b: { cmd: "s \${PORT}" }
peers: { p: { proxy: "http://h", models: [x, a] } }
selectors:
  first: { strategy: pin, targets: [a, b] }
  any: { strategy: warm, targets: [a, b], name: Any, metadata: { k: 1 } }
  hidden: { strategy: pin, targets: [a], unlisted: true }
profiles:
  w: { pins: { llm: b, a1: b, x: b, off: ~, first: b } }
`, { env: {} });
  const list = listModels(config, (m) => (m === 'b' ? 'starting' : 'stopped'), 0, config.profiles.get('w'));
  const rows = list.data.map((m) => [m.id, m.meta.llamaswap['type'], m.status.value]);
  assert.deepEqual(rows, [
    ['a', 'model', 'unloaded'],
    ['any', 'selector', 'loaded'],
    ['b', 'model', 'loaded'],
    ['first', 'selector', 'unloaded'],
    ['llm', 'profile', 'unloaded'],
    ['p/a', 'peer', 'unloaded'],
    ['p/x', 'peer', 'unloaded'],
  ], 'pin checks the first target only; warm any; pins already an id (a1, x, first) or disabled (off) are not listed');
  assert.deepEqual(list.data.find((m) => m.id === 'p/x')?.meta.llamaswap, { type: 'peer', peerID: 'p' });
  assert.equal(list.data.find((m) => m.id === 'p/x')?.name, 'p: x');
  assert.deepEqual(list.data.find((m) => m.id === 'any')?.meta.llamaswap, { k: 1, type: 'selector', strategy: 'warm', targets: ['a', 'b'] });
  assert.deepEqual(listModels(config, () => 'stopped', 0).data.filter((m) => m.meta.llamaswap['type'] === 'profile'), [], 'no profile active: no pins listed');
});
