/**
 * llama-swap's docker/config.example.yaml, unchanged, run by the real CLI:
 * it starts, logs a warning for each setting that has no effect (before it
 * says it is listening), lists the models, and fails the request for the
 * model that can never start with the reason.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startCli } from '../helpers/cli-process.ts';
import { postJson } from '../helpers/modelswap.ts';

const DOCKER = readFileSync(new URL('../fixtures/llama-swap/docker/config.example.yaml', import.meta.url), 'utf8');

test("llama-swap's docker example config starts unchanged, with its warnings logged at start-up", async (t) => {
  const cli = await startCli(t, DOCKER, 3);
  const warnings = cli.stdout().split('\n').filter((l) => l.includes('"level":40') && l.includes('config: '));
  assert.deepEqual(warnings.map((l) => (JSON.parse(l) as { key: string }).key), ['logRequests', 'models.z-image.proxy']);

  const list = (await (await fetch(`${cli.url}/v1/models`)).json()) as { data: { id: string }[] };
  assert.deepEqual(list.data.map((m) => m.id), ['qwen2.5', 'smollm2', 'z-image']);
  const r = await postJson(`${cli.url}/v1/images/generations`, { model: 'dall-e-3', prompt: 'a llama' });
  assert.equal(r.status, 502);
  assert.match(String(r.json.error.message), /model "z-image" cannot start: its proxy defaults to http:\/\/localhost:\$\{PORT\}/);
});
