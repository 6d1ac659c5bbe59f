import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { joinContinuations, splitCommand, stripCommentLines } from '../../src/config/command.ts';
import { issuesOf, model, oneIssue } from './helpers.ts';

function argv(cmd: string): string[] {
  const r = splitCommand(cmd);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.argv;
}

function splitError(cmd: string): string {
  const r = splitCommand(cmd);
  assert.ok(!r.ok, `expected an error for ${JSON.stringify(cmd)}, got ${JSON.stringify(r)}`);
  return r.error;
}

describe('command splitting (no shell)', () => {
  it('splits on any whitespace, including newlines and tabs', () => {
    assert.deepEqual(argv('  srv\t--a  1\n  --b 2 \n'), ['srv', '--a', '1', '--b', '2']);
  });

  it('honours single quotes, double quotes and backslashes like POSIX sh', () => {
    assert.deepEqual(argv(`a 'b c' "d e" f\\ g`), ['a', 'b c', 'd e', 'f g']);
    assert.deepEqual(argv(`'it''s' "say \\"hi\\"" "a\\b" 'x\\y'`), ['its', 'say "hi"', 'a\\b', 'x\\y']);
    assert.deepEqual(argv(`--x=""  ''`), ['--x=', '']);
    assert.deepEqual(argv(`pre"mid"'post'`), ['premidpost']);
  });

  it('does not expand $VAR, ~ or globs, and keeps quoted operators', () => {
    assert.deepEqual(argv('echo $HOME ~ *.gguf'), ['echo', '$HOME', '~', '*.gguf']);
    assert.deepEqual(argv(`sh -c "a | b && c > /dev/null"`), ['sh', '-c', 'a | b && c > /dev/null']);
    assert.deepEqual(argv(`grep 'a;b' x\\|y`), ['grep', 'a;b', 'x|y']);
    assert.deepEqual(argv('kill -TERM ${PID}'), ['kill', '-TERM', '${PID}']);
  });

  it('rejects unquoted shell operators with a hint to use sh -c', () => {
    for (const cmd of ['a | b', 'a && b', 'a; b', 'a > log', 'a < in', 'a 2>&1', 'a &', 'echo `id`', 'echo $(id)']) {
      assert.match(splitError(cmd), /shell operator .* not run by a shell.*sh -c/, cmd);
    }
    assert.match(splitError('a && b'), /"&&"/);
  });

  it('rejects unterminated quotes, a lone trailing backslash, inline comments and empty commands', () => {
    assert.match(splitError(`a 'b`), /unterminated single quote/);
    assert.match(splitError(`a "b`), /unterminated double quote/);
    assert.deepEqual(argv('a \\'), ['a']); // a final continuation joins nothing
    assert.match(splitError('a --ctx 4096 # big'), /inline # comment/);
    assert.deepEqual(argv('a b#c'), ['a', 'b#c']);
    assert.match(splitError('   \n  '), /empty command/);
  });

  it('turns trailing-backslash continuations into spaces', () => {
    assert.equal(joinContinuations('a \\\n  b\\\n c'), 'a  \n  b \n c');
    assert.deepEqual(argv('srv \\\n  --a 1\\\n--b 2'), ['srv', '--a', '1', '--b', '2']);
    // an escaped backslash at the end of a line is not a continuation
    assert.deepEqual(argv('a\\\\\nb'), ['a\\', 'b']);
  });

  it('strips lines whose first non-space character is #', () => {
    assert.equal(stripCommentLines('a\n  # x\n#y\nb # not a comment line'), 'a\nb # not a comment line');
  });
});

describe('cmd and cmdStop in a config', () => {
  it('drops comment lines and joins continuations', () => {
    const m = model(
      `
models:
  m:
    cmd: |
      # leading comment
      llama-server --port \${PORT} \\
        # commented-out flag --no-mmap
        -m "/models/My Model.gguf" \\
        --alias '\${MODEL_ID}'
    cmdStop: |
      # graceful
      kill -TERM \${PID}
`,
      'm',
    );
    assert.deepEqual(m.cmd, ['llama-server', '--port', '5800', '-m', '/models/My Model.gguf', '--alias', 'm']);
    assert.deepEqual(m.cmdStop, ['kill', '-TERM', '${PID}']);
  });

  it('reports operators in cmd and cmdStop at their paths', () => {
    const issues = issuesOf(`
models:
  m:
    cmd: srv --port \${PORT} | tee log
    cmdStop: kill \${PID} && sleep 1
`);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['models.m.cmd', 'models.m.cmdStop'],
    );
    assert.match(issues[0]?.message ?? '', /"\|".*sh -c/);
    assert.equal(issues[0]?.value, 'srv --port 5800 | tee log');
  });

  it('rejects a cmd that only has comments', () => {
    oneIssue('models: { m: { cmd: "# nothing", proxy: "http://h" } }', 'models.m.cmd', /empty command/);
  });

  it('rejects ${PID} outside cmdStop', () => {
    oneIssue('models: { m: { cmd: "srv ${PID}", proxy: "http://h" } }', 'models.m.cmd', /\$\{PID\} is only allowed in cmdStop/);
  });
});
