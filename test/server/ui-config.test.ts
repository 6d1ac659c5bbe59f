/**
 * The UI's config endpoint: commands are quoted so that a POSIX shell runs
 * exactly the argv modelswap runs (checked by a real /bin/sh for tricky
 * arguments and random ones), groups and the scheduler are reported.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { execa } from 'execa';
import { parseConfig } from '../../src/config/load.ts';
import { shellLine, shellQuote, uiConfig } from '../../src/server/ui-config.ts';

/** argv as /bin/sh splits the line, NUL-separated by printf. */
async function shellArgv(line: string): Promise<string[]> {
  const { stdout } = await execa('/bin/sh', ['-c', `printf '%s\\0' ${line}`], { stripFinalNewline: false });
  return stdout.split('\0').slice(0, -1);
}

test('plain arguments stay as they are', () => {
  assert.equal(shellLine(['llama-server', '--port', '5800', '-m', '/models/a.gguf', 'k=v', 'a,b:c@d%e+f']), 'llama-server --port 5800 -m /models/a.gguf k=v a,b:c@d%e+f');
});

test('special arguments are single-quoted and a POSIX shell gets the same argv back', async () => {
  const argv = ['a b', "it's", '$HOME', '`id`', '"q"', 'x;y', 'tab\there', 'new\nline', '*', '~', '', '!bang', 'back\\slash', "''"];
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote(''), "''");
  assert.deepEqual(await shellArgv(shellLine(argv)), argv);
});

test('random argv round-trips through /bin/sh', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.string({ unit: 'grapheme-ascii', maxLength: 12 }).filter((s) => !s.includes('\0')), { minLength: 1, maxLength: 5 }), async (argv) => {
      assert.deepEqual(await shellArgv(shellLine(argv)), argv);
    }),
    { numRuns: 40 },
  );
});

test('uiConfig lists the listed models with their group, ttl and quoted command, the groups and the scheduler', () => {
  const config = parseConfig(`
apiKeys: [k]
models:
  a:
    cmd: server --port \${PORT} --prompt "two words"
    ttl: 30
    aliases: [alpha]
  b:
    cmd: server --port \${PORT}
  hidden:
    cmd: server --port \${PORT}
    unlisted: true
routing:
  scheduler:
    use: fifo
  router:
    settings:
      groups:
        g:
          members: [a]
`, { env: {} });
  const ui = uiConfig(config);
  assert.deepEqual(ui.models.map((m) => [m.id, m.group, m.ttl]), [['a', 'g', 30], ['b', '(default)', 0]]);
  const a = ui.models[0]!;
  assert.deepEqual(a.aliases, ['alpha']);
  assert.match(a.shell, /^server --port \d+ --prompt 'two words'$/);
  assert.deepEqual(ui.groups.map((g) => g.id).sort(), ['(default)', 'g']);
  assert.equal(ui.scheduler, 'fifo');
  assert.equal(ui.apiKeys, true);
});
