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
