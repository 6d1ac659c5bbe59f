import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';
import { ANNOTATIONS } from '../../src/config/schema.ts';

type Schema = { readonly [key: string]: unknown };

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const schema = JSON.parse(read('schema/config.schema.json')) as Schema;

/** A plain draft-07 validator, independent of the loader (what an editor does). */
function editorValidate(data: unknown): string[] {
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
  for (const keyword of ANNOTATIONS) ajv.addKeyword(keyword);
  const validate = ajv.compile(schema);
  return validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

/** Every property schema reachable from the root, with its key. */
function properties(): [string, Schema][] {
  const out: [string, Schema][] = [];
  const walk = (s: unknown): void => {
    if (s === null || typeof s !== 'object') return;
    const props = (s as Schema)['properties'];
    if (props !== undefined) for (const [k, v] of Object.entries(props as Schema)) out.push([k, v as Schema]);
    for (const v of Object.values(s)) walk(v);
  };
  walk(schema);
  return out;
}


for (const file of ['config.example.yaml', 'demo/config.yaml']) {
  describe(file, () => {
    const text = read(file);

    it('has the yaml-language-server modeline pointing at the schema', () => {
      assert.match(text.split('\n')[0] ?? '', /^# yaml-language-server: \$schema=(\.\.\/|\.\/)schema\/config\.schema\.json$/);
    });

    it('validates against schema/config.schema.json', () => {
      assert.deepEqual(editorValidate(parse(text, { merge: true })), []);
    });

    it('loads through parseConfig with every model on the bundled demo upstream', () => {
      const config = parseConfig(text, { env: {}, source: file });
      assert.deepEqual(config.warnings, [], 'every active key; the inactive ones are shown commented out');
      assert.ok(config.models.size >= 3);
      for (const m of config.models.values()) {
        assert.deepEqual(m.cmd.slice(0, 2), ['node', 'src/demo/fake-llama-server.ts'], m.id);
        assert.ok(m.cmd.includes('--model-id') && m.cmd.includes(m.id), m.id);
      }
    });
  });
}

describe('config.example.yaml', () => {
  it('documents every key of the schema', () => {
    const text = read('config.example.yaml');
    const missing = properties()
      .map(([k]) => k)
      .filter((k) => !new RegExp(`(^|[\\s{,#-])${k}:`, 'm').test(text));
    assert.deepEqual([...new Set(missing)], []);
  });
});

describe('demo/config.yaml', () => {
  it('is the small three-model demo npm start uses', () => {
    const config = parseConfig(read('demo/config.yaml'), { env: {} });
    assert.deepEqual([...config.models.keys()], ['chat-large', 'chat-small', 'embed']);
    assert.deepEqual(
      [...config.models.values()].map((m) => m.proxy),
      ['http://localhost:5800', 'http://localhost:5801', 'http://localhost:5802'],
    );
    assert.equal(config.scheduler.use, 'fifo', 'the demo shows groups, which only fifo honours');
    assert.ok([...config.models.values()].some((m) => m.ttlMs > 0));
    assert.ok(config.aliases.size > 0);
  });
});

describe('schema/config.schema.json', () => {
  it('has defaults that satisfy their own property schemas', () => {
    const ajv = new Ajv({ allowUnionTypes: true });
    for (const keyword of ANNOTATIONS) ajv.addKeyword(keyword);
    ajv.addSchema(schema);
    const withDefaults = properties().filter(([, s]) => 'default' in s);
    assert.ok(withDefaults.length >= 15);
    for (const [key, s] of withDefaults) {
      const { default: value, ...rest } = s;
      const resolved = JSON.parse(JSON.stringify(rest).replaceAll('"#/definitions/', `"${String(schema['$id'])}#/definitions/`)) as Schema;
      assert.ok(ajv.validate(resolved, value), `default of ${key}: ${ajv.errorsText()}`);
    }
  });

  it('marks the llama-swap keys that are accepted but not active yet, and nothing is rejected as unsupported', () => {
    const inactive = properties()
      .filter(([, s]) => 'x-inactive' in s || 'x-inactive-when-true' in s)
      .map(([k]) => k)
      .sort();
    assert.deepEqual(inactive, [
      'performance',
    ]);
    assert.equal(JSON.stringify(schema).includes('unsupported'), false);
  });
});
