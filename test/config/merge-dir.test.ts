/** `--config-dir`: merge rules (plain data) and loading several files as one config. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfigSources, sourceFiles } from '../../src/config/load.ts';
import { IssueList } from '../../src/config/issues.ts';
import { listConfigDir, mergeSources } from '../../src/config/merge-dir.ts';

const merge = (...data: unknown[]) => {
  const issues = new IssueList();
  const merged = mergeSources(data.map((d, i) => ({ file: `f${i}.yaml`, data: d })), issues);
  return { merged, issues: issues.toIssues() };
};
const ok = (...data: unknown[]) => {
  const { merged, issues } = merge(...data);
  assert.deepEqual(issues, []);
  return merged.data;
};
const problems = (...data: unknown[]) => merge(...data).issues.map((i) => `${i.path}: ${i.message}`);

describe('mergeSources', () => {
  it('keeps keys of either file and merges other maps recursively', () => {
    assert.deepEqual(ok({ a: 1, m: { x: 1 } }, { b: 2, m: { y: 2 } }), { a: 1, b: 2, m: { x: 1, y: 2 } });
    assert.deepEqual(ok({ macros: { p: '1' } }, { macros: { q: '2' } }), { macros: { p: '1', q: '2' } });
  });

  it('concatenates sequences', () => {
    assert.deepEqual(ok({ apiKeys: ['a'] }, { apiKeys: ['b', 'c'] }), { apiKeys: ['a', 'b', 'c'] });
  });

  it('lets null give way, either way round', () => {
    assert.deepEqual(ok({ logLevel: null, hooks: { x: 1 } }, { logLevel: 'debug', hooks: null }), { logLevel: 'debug', hooks: { x: 1 } });
  });

  it('accepts a scalar set twice to the same value and rejects different ones, naming both files', () => {
    assert.deepEqual(ok({ globalTTL: 5 }, { globalTTL: 5 }), { globalTTL: 5 });
    assert.deepEqual(problems({ globalTTL: 5 }, { globalTTL: 6 }), ['globalTTL: 5 in f0.yaml but 6 in f1.yaml; a value set in two files must be the same']);
    assert.deepEqual(problems({ apiKeys: ['a'] }, { apiKeys: 'b' }), ['apiKeys: a list in f0.yaml but a value ("b") in f1.yaml; the files cannot be merged']);
  });

  it('rejects a model, group or peer defined in two files, naming both', () => {
    assert.deepEqual(problems({ models: { a: { cmd: 'x' } } }, { models: { b: { cmd: 'y' } } }, { models: { a: { ttl: 1 } } }), [
      'models.a: models "a" is defined in both f0.yaml and f2.yaml; define it in one file',
    ]);
    for (const key of ['groups', 'profiles', 'selectors', 'peers', 'matrix']) {
      assert.equal(problems({ [key]: { g: {} } }, { [key]: { g: {} } }).length, 1, key);
    }
    const routing = (g: string) => ({ routing: { router: { settings: { groups: { [g]: { members: [] } } } } } });
    assert.deepEqual(ok(routing('g1'), routing('g2')), { routing: { router: { settings: { groups: { g1: { members: [] }, g2: { members: [] } } } } } });
    assert.deepEqual(problems(routing('g1'), routing('g1')), [
      'routing.router.settings.groups.g1: routing.router.settings.groups "g1" is defined in both f0.yaml and f1.yaml; define it in one file',
    ]);
  });

  it('merges a model\'s inner maps only through the identity rule (no partial models)', () => {
    // scheduler priorities are not an identity map: merged key by key
    const prio = (m: string, p: number) => ({ routing: { scheduler: { settings: { fifo: { priority: { [m]: p } } } } } });
    assert.deepEqual(ok(prio('a', 1), prio('b', 2)), { routing: { scheduler: { settings: { fifo: { priority: { a: 1, b: 2 } } } } } });
  });

  it('skips empty files and rejects a file whose top level is not a map', () => {
    assert.deepEqual(ok(null, { a: 1 }, undefined), { a: 1 });
    assert.deepEqual(problems({ a: 1 }, ['x']), [': the top level of f1.yaml must be a map of config keys, got a list']);
  });

  it('does not change the sources\' own objects', () => {
    const first = { m: { x: 1 }, l: [1] };
    ok(first, { m: { y: 2 }, l: [2] });
    assert.deepEqual(first, { m: { x: 1 }, l: [1] });
  });

  it('knows which file and path each merged key came from', () => {
    const { merged } = merge({ apiKeys: ['a'], models: { a: { cmd: 'x' } } }, { apiKeys: ['b'], models: { b: { cmd: 'y' } } });
    assert.deepEqual(merged.placeOf(['models', 'b', 'cmd']), { file: 'f1.yaml', path: ['models', 'b', 'cmd'] });
    assert.deepEqual(merged.placeOf(['models', 'a']), { file: 'f0.yaml', path: ['models', 'a'] });
    assert.deepEqual(merged.placeOf(['apiKeys', 1]), { file: 'f1.yaml', path: ['apiKeys', 0] });
  });
});

describe('loadConfigSources', () => {
  const root = mkdtempSync(join(tmpdir(), 'modelswap-confdir-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  /** A fresh directory with these files (name -> text). */
  const dirWith = (files: Record<string, string>): string => {
    const dir = join(root, `d${n++}`);
    mkdirSync(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };
  const model = (id: string) => `models:\n  ${id}:\n    cmd: srv --port \${PORT}\n`;
  const rejects = async (p: Promise<unknown>, re: RegExp) =>
    assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, re);
      return true;
    });

  it('lists only *.yml/*.yaml files directly in the folder, sorted by name', () => {
    const dir = dirWith({ 'b.yaml': '', 'a.yml': '', 'c.json': '{}', 'notes.txt': '', '10.yaml': '' });
    mkdirSync(join(dir, 'sub.yaml'));
    writeFileSync(join(dir, 'sub.yaml', 'x.yaml'), '');
    symlinkSync(join(dir, 'a.yml'), join(dir, 'link.yaml'));
    assert.deepEqual(listConfigDir(dir).map((f) => f.slice(dir.length + 1)), ['10.yaml', 'a.yml', 'b.yaml', 'link.yaml']);
  });

  it('merges the --config file first, then the folder in name order', async () => {
    const dir = dirWith({ '20-b.yaml': `${model('b')}apiKeys: [k2]\n`, '10-a.yml': `${model('a')}apiKeys: [k1]\nmacros:\n  x: "1"\n` });
    const main = join(root, 'main.yaml');
    writeFileSync(main, `startPort: 7000\napiKeys: [k0]\n${model('m')}`);
    const config = await loadConfigSources({ config: main, configDir: dir }, {});
    assert.deepEqual([...config.models.keys()].sort(), ['a', 'b', 'm']);
    assert.deepEqual(config.apiKeys, ['k0', 'k1', 'k2']);
    // ${PORT} is assigned over the merged models, in sorted order
    assert.deepEqual(['a', 'b', 'm'].map((id) => config.models.get(id)?.cmd.at(-1)), ['7000', '7001', '7002']);
  });

  it('works with the folder alone, with ${env.*} substituted in each file', async () => {
    const dir = dirWith({ 'a.yaml': 'models:\n  a:\n    cmd: srv ${env.FLAG} --port ${PORT}\n' });
    const config = await loadConfigSources({ configDir: dir }, { FLAG: '--fast' });
    assert.deepEqual(config.models.get('a')?.cmd, ['srv', '--fast', '--port', '5800']);
  });

  it('rejects a model defined in two files, naming both files', async () => {
    const dir = dirWith({ 'a.yaml': model('dup'), 'b.yaml': model('dup') });
    await rejects(loadConfigSources({ configDir: dir }, {}), new RegExp(`models "dup" is defined in both ${join(dir, 'a.yaml')} and ${join(dir, 'b.yaml')}`));
  });

  it('reports a later problem at the file and line of its key', async () => {
    const dir = dirWith({ 'a.yaml': model('a'), 'b.yaml': `# comment\n${model('b')}    ttl: soon\n` });
    await rejects(loadConfigSources({ configDir: dir }, {}), new RegExp(`models\\.b\\.ttl \\(${join(dir, 'b.yaml')} line 5\\)`));
  });

  it('reports a YAML or env problem in the file it is in', async () => {
    const dir = dirWith({ 'a.yaml': model('a'), 'b.yaml': 'models: [\n' });
    await rejects(loadConfigSources({ configDir: dir }, {}), new RegExp(`invalid config ${join(dir, 'b.yaml')} .*\\n.*YAML syntax error`));
    const env = dirWith({ 'a.yaml': 'apiKeys: ["${env.NOPE}"]\n' });
    await rejects(loadConfigSources({ configDir: env }, {}), new RegExp(`invalid config ${join(env, 'a.yaml')} [^]*NOPE is not set`));
  });

  it('rejects the --config file found again in the folder', async () => {
    const dir = dirWith({ 'main.yaml': model('a') });
    await rejects(loadConfigSources({ config: join(dir, '.', 'main.yaml'), configDir: dir }, {}), /also in --config-dir/);
  });

  it('rejects a missing folder, and a folder with no YAML file when it is the only source', async () => {
    assert.throws(() => sourceFiles({ configDir: join(root, 'missing') }), /cannot read config directory: ENOENT/);
    const empty = dirWith({ 'readme.txt': '' });
    assert.throws(() => sourceFiles({ configDir: empty }), /no \*\.yml or \*\.yaml file/);
    const main = join(root, 'only.yaml');
    writeFileSync(main, model('m'));
    assert.deepEqual(sourceFiles({ config: main, configDir: empty }), [main]);
  });
});
