/**
 * llama-swap's own example configs (test/fixtures/llama-swap, copied from its
 * repository) through modelswap's loader: no key of theirs is rejected.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';
import { issuesOf } from './helpers.ts';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/llama-swap/${name}`, import.meta.url), 'utf8');
const ENV = { HOME: '/home/u', API_KEY_1: 'k1', API_KEY_2: 'k2', OPENROUTER_API_KEY: 'sk-or' };
/**
 * Names the example's groups, priorities, profile and selectors use but never
 * defines. Its group1 also lists `llama`, which is one of its selectors: the
 * completed example drops that member (a selector is not a process to group).
 */
const UNDEFINED = ['qwen-unlisted', 'modelA', 'modelB', 'forever-modelA', 'forever-modelB', 'forever-modelc', 'A', 'B', 'C', 'D'];

describe("llama-swap's config.example.yaml", () => {
  it('as it is, is refused only for the model names it never defines, not for any key', () => {
    const issues = issuesOf(fixture('config.example.yaml'), ENV);
    assert.ok(issues.length > 0);
    for (const i of issues) {
      assert.match(i.path, /^(routing\.(router\.settings\.groups\.\w+\.members\[\d\]|scheduler\.settings\.fifo\.priority\.[A-D])|profiles\.coding\.pins\.llm-plan|selectors\.(coding-model|llama)\.targets\[\d\])$/, `${i.path}: ${i.message}`);
      assert.match(i.message, /^unknown model/, i.message);
    }
  });

  it('completed with stub models for those names, loads with a warning for each setting that has no effect yet', () => {
    const doc = parseDocument(fixture('config.example.yaml'));
    for (const name of UNDEFINED) doc.setIn(['models', name], doc.createNode({ cmd: 'stub --port ${PORT}' }));
    doc.setIn(['routing', 'router', 'settings', 'groups', 'group1', 'members'], doc.createNode(['qwen-unlisted']));
    const c = parseConfig(doc.toString(), { env: ENV });
    assert.deepEqual(c.warnings.map((w) => w.path), [
      'performance',
      'models.gpt-oss-120b.timeouts', 'models.unlisted-model.proxy', 'hooks.on_startup.preload[0]',
      'peers.openrouter.timeouts',
    ]);
    assert.deepEqual([...c.selectors.keys()], ['coding-model', 'llama', 'llm-plan']);
    assert.deepEqual(c.profiles.get('coding')?.pins, new Map([['llm-code', 'gpt-oss-120b'], ['llm-plan', 'qwen-unlisted'], ['image-gen', null]]));
    assert.deepEqual(c.peerModels.get('openrouter/z-ai/glm-4.7'), { peer: 'openrouter', model: 'z-ai/glm-4.7', fqn: 'openrouter/z-ai/glm-4.7' });
    assert.equal(c.peerModels.get('model_a')?.peer, 'llama-swap-peer', 'a bare id one peer alone serves');
    assert.deepEqual(c.peers.get('openrouter')?.timeouts, { connectMs: 30_000, responseHeaderMs: 60_000 });
    assert.equal(c.peers.get('openrouter')?.apiKey, 'sk-or');
    const m = c.models.get('gpt-oss-120b')!;
    assert.deepEqual(m.aliases, ['gpt-4o-mini', 'gpt-oss-120b:high', 'gpt-oss-120b:low']);
    assert.deepEqual(m.filters.stripParams, ['temperature', 'top_k', 'top_p']);
    assert.deepEqual(m.filters.setParamsByID.get('gpt-oss-120b:high'), { chat_template_kwargs: { reasoning_effort: 'high' } });
    assert.deepEqual(m.capabilities, { in: ['text', 'audio', 'image'], out: ['text', 'audio', 'image'], tools: true, reranker: false, context: 32000 });
    assert.deepEqual(m.timeouts, { connectMs: 30_000, responseHeaderMs: 60_000 });
    assert.deepEqual(c.upstreamIgnorePaths.map((r) => r.source), ['.*\\.(js|json|css|png|gif|jpg|jpeg|ico|txt)$', '^\\/ws$|^\\/api\\/jobs$']);
    assert.equal(c.apiKeys[2], 'k1');
    assert.match(c.models.get('unlisted-model')?.startError ?? '', /cannot start/);
  });
});

describe("llama-swap's docker/config.example.yaml", () => {
  it('loads as it is, warning about logRequests and the model that can never start', () => {
    const c = parseConfig(fixture('docker/config.example.yaml'), { env: {} });
    assert.deepEqual([...c.models.keys()], ['qwen2.5', 'smollm2', 'z-image']);
    assert.deepEqual(c.warnings.map((w) => [w.path, w.line]), [
      ['logRequests', 6],
      ['models.z-image.proxy', 24],
    ]);
    assert.equal(c.aliases.get('dall-e-3'), 'z-image');
  });
});
