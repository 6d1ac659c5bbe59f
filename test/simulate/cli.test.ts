/**
 * `modelswap simulate` as a command: flags, output and exit codes, through
 * runSimulate with in-memory files (pure), plus one run of the real binary.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runSimulate } from '../../src/simulate/cli.ts';
import { schedulerNames } from '../../src/simulate/schedulers.ts';

const CONFIG = `routing:
  scheduler:
    use: fifo
    settings:
      fifo:
        priority: { b: 5 }
models:
  a: { cmd: "srv --port \${PORT}", aliases: [alpha], simulate: { loadMs: 1000, stopMs: 0 } }
  b: { cmd: "srv --port \${PORT}", simulate: { loadMs: 1000, stopMs: 0 } }
`;
const TRACE = ['{"t":0,"model":"a","ms":100}', '{"t":10,"model":"b","ms":100}', '{"t":20,"model":"alpha","ms":100}', '{"t":30,"model":"b","ms":100}'].join('\n');

function run(argv: string[], files: Record<string, string> = { 'c.yaml': CONFIG, 't.jsonl': TRACE }) {
  let stdout = '';
  let stderr = '';
  const code = runSimulate(argv, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    readFile: (p) => {
      const text = files[p];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${p}'`);
      return text;
    },
    env: {},
  });
  return { code, stdout, stderr };
}

const BASE = ['--config', 'c.yaml', '--trace', 't.jsonl'];

describe('modelswap simulate', () => {
  it('prints a table row per scheduler, every scheduler by default', () => {
    const r = run(BASE);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], '4 requests for 2 models, arrivals over 0.03 s');
    assert.equal(lines[1], 'load/stop times: a 1000/0 ms, b 1000/0 ms');
    assert.match(lines[3]!, /^scheduler\s+requests\s+swaps\s+makespan\s+wait p50\s+wait p99\s+wait max\s+loading$/);
    assert.deepEqual(lines.slice(4).map((l) => l.split(/\s+/)[0]), [...schedulerNames()]);
    assert.match(r.stdout, /\nfifo\s+4\s+2\s+2\.20 s\s+1\.00 s\s+2\.09 s\s+2\.09 s\s+2\.00 s\n/);
    assert.match(r.stdout, /\nserial\s+4\s+4\s+4\.40 s\s+2\.09 s\s+4\.27 s\s+4\.27 s\s+4\.00 s\n/);
  });

  it('--json: one object per scheduler per line, with the documented keys', () => {
    const r = run([...BASE, '--json', '--scheduler', 'serial,fifo']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(rows.map((o) => o.scheduler), ['serial', 'fifo']);
    for (const key of ['scheduler', 'requests', 'swaps', 'makespanMs', 'waitP50Ms', 'waitP99Ms', 'waitMaxMs', 'loadingMs']) {
      assert.ok(rows.every((o) => key in o), key);
    }
    assert.deepEqual(rows[1], {
      scheduler: 'fifo', requests: 4, swaps: 2, makespanMs: 2200, waitP50Ms: 1000, waitP99Ms: 2090, waitMaxMs: 2090,
      loadingMs: 2000, evictions: 1, served: 4, failed: 0, errors: {}, unfinished: 0,
    });
  });

  it('runs a scheduler other than the config\'s under that scheduler (dropping the other one\'s settings)', () => {
    const r = run([...BASE, '--json', '--scheduler', 'serial']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { swaps: number }).swaps, 4);
  });

  it('an unknown scheduler: exit 2, listing the valid ones', () => {
    const r = run([...BASE, '--scheduler', 'fifo,lifo']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown scheduler "lifo"; valid: serial, fifo/);
    assert.equal(r.stdout, '');
    assert.match(run([...BASE, '--scheduler', 'fifo,']).stderr, /unknown scheduler an empty name/);
  });

  it('a malformed trace line: exit 2, naming the file and line', () => {
    const r = run(BASE, { 'c.yaml': CONFIG, 't.jsonl': `${TRACE}\n\n{"t": 40, "model": "a"}` });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^modelswap simulate: t\.jsonl: line 6: "ms" \(service time\) must be a number >= 0, got undefined\n$/);
  });

  it('requests for unknown models are counted as failed, with a note', () => {
    const r = run([...BASE, '--json', '--scheduler', 'fifo'], { 'c.yaml': CONFIG, 't.jsonl': `${TRACE}\n{"t":40,"model":"gpt-9","ms":1}` });
    assert.equal(r.code, 0);
    assert.match(r.stderr, /note: 1 requests name models the config does not have \(gpt-9\); they are counted as failed \(MODEL_NOT_FOUND/);
    const row = JSON.parse(r.stdout) as { requests: number; failed: number; errors: unknown };
    assert.deepEqual([row.requests, row.failed, row.errors], [5, 1, { MODEL_NOT_FOUND: 1 }]);
    const table = run(BASE, { 'c.yaml': CONFIG, 't.jsonl': `${TRACE}\n{"t":40,"model":"gpt-9","ms":1}` });
    assert.match(table.stdout, /requests\s+failed\s+swaps/);
  });

  it('bad usage and bad files: exit 2 with the reason', () => {
    assert.match(run(['--trace', 't.jsonl']).stderr, /--config <file> is required/);
    assert.match(run(['--config', 'c.yaml']).stderr, /--trace <file> is required/);
    assert.match(run([...BASE, '--bogus']).stderr, /Unknown option '--bogus'/);
    assert.match(run(['--config', 'nope.yaml', '--trace', 't.jsonl']).stderr, /--config: cannot read nope\.yaml: ENOENT/);
    const bad = run(BASE, { 'c.yaml': 'models: { a: { cmd: "srv", simulate: { loadMs: -5 } } }', 't.jsonl': TRACE });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /models\.a\.simulate\.loadMs/);
    for (const argv of [['--trace', 't.jsonl'], [...BASE, '--bogus'], [...BASE, '--scheduler', 'x']]) assert.equal(run(argv).code, 2);
  });

  it('--help prints the usage', () => {
    const r = run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: modelswap simulate --config <file> --trace <file>/);
  });

  it('is a subcommand of the modelswap executable', () => {
    const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const out = execFileSync(process.execPath, [cli, 'simulate', '--config', 'examples/simulate.yaml', '--trace', 'examples/traces/alternating-ab.jsonl', '--json'], { cwd: root, encoding: 'utf8' });
    assert.deepEqual(out.trimEnd().split('\n').map((l) => (JSON.parse(l) as { scheduler: string }).scheduler), [...schedulerNames()]);
    const bad = spawnSync(process.execPath, [cli, 'simulate', '--config', 'examples/simulate.yaml', '--trace', 'examples/traces/alternating-ab.jsonl', '--scheduler', 'nope'], { cwd: root, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown scheduler "nope"/);
  });
});
