import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load.ts';
import { issuesOf, load, oneIssue } from './helpers.ts';

describe('${env.NAME} substitution', () => {
  it('replaces variables before parsing, so they can supply numbers and keys', () => {
    const c = load(
      `
startPort: \${env.BASE_PORT}
apiKeys:
  - \${env.API_KEY}
  - "\${env.QUOTED}"
  - 'single-\${env.APOS}'
models:
  m: { cmd: "srv --port \${PORT} --dir '\${env.DIR}'" }
`,
      { BASE_PORT: '6100', API_KEY: 'sk-123', QUOTED: 'a"b\\c', APOS: "it's", DIR: '/data dir' },
    );
    assert.deepEqual(c.apiKeys, ['sk-123', 'a"b\\c', "single-it's"]);
    assert.deepEqual(c.models.get('m')?.cmd, ['srv', '--port', '6100', '--dir', '/data dir']);
  });

  it('reports every missing variable with its key path and line', () => {
    const issues = issuesOf(`
apiKeys:
  - \${env.MISSING_KEY}
models:
  m:
    cmd: srv --model \${env.MODEL_PATH}
    proxy: http://h
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line, i.message]),
      [
        ['apiKeys[0]', 3, 'environment variable MISSING_KEY is not set (used as ${env.MISSING_KEY})'],
        ['models.m.cmd', 6, 'environment variable MODEL_PATH is not set (used as ${env.MODEL_PATH})'],
      ],
    );
  });

  it('ignores variables that only appear in comments', () => {
    const c = load(`
# apiKeys: [\${env.COMMENTED_OUT}]
models:
  m:   # \${env.TRAILING_COMMENT}
    cmd: |
      srv --port 1
      # --key \${env.IN_CMD_COMMENT}
    proxy: http://h
`);
    assert.deepEqual(c.models.get('m')?.cmd, ['srv', '--port', '1']);
  });

  it('rejects values with a newline', () => {
    oneIssue('models: { m: { cmd: "srv ${env.BAD}", proxy: "http://h" } }', 'models.m.cmd', /BAD contains a newline/, {
      BAD: 'a\nb',
    });
  });

  it('reads process.env by default', () => {
    const name = 'MODELSWAP_CONFIG_TEST_KEY';
    process.env[name] = 'from-process';
    try {
      const c = parseConfig(`apiKeys: ["\${env.${name}}"]\nmodels: {}`);
      assert.deepEqual(c.apiKeys, ['from-process']);
    } finally {
      delete process.env[name];
    }
  });
});

describe('loadConfigFile', () => {
  const dir = mkdtemp(join(tmpdir(), 'modelswap-config-'));
  after(async () => rm(await dir, { recursive: true, force: true }));

  it('loads a file with the given environment', async () => {
    const path = join(await dir, 'ok.yaml');
    await writeFile(path, 'models: { m: { cmd: "srv ${env.FLAG}", proxy: "http://h" } }\n');
    const c = await loadConfigFile(path, { FLAG: '--fast' });
    assert.deepEqual(c.models.get('m')?.cmd, ['srv', '--fast']);
  });

  it('names the file in errors', async () => {
    const path = join(await dir, 'bad.yaml');
    await writeFile(path, 'models: { m: { cmd: srv, proxy: "http://h", ttl: soon } }\n');
    await assert.rejects(loadConfigFile(path, {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.source, path);
      assert.ok(err.message.startsWith(`invalid config ${path} (1 problem):\n`), err.message);
      return true;
    });
  });

  it('turns a missing file into a ConfigError', async () => {
    const path = join(await dir, 'nope.yaml');
    await assert.rejects(loadConfigFile(path, {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.issues.length, 1);
      assert.match(err.issues[0]?.message ?? '', /cannot read config file: ENOENT/);
      assert.ok(err.cause instanceof Error);
      return true;
    });
  });
});
