/**
 * The shipped examples stay true: the traces match the bench's, every
 * scheduler serves every request of every trace under every example config,
 * and the runs shown in the README print what the README says.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { benchTraces } from '../../bench/traces/to-jsonl.ts';
import { parseConfig } from '../../src/config/load.ts';
import { runSimulate } from '../../src/simulate/cli.ts';
import { summarize } from '../../src/simulate/report.ts';
import { simulateRun } from '../../src/simulate/run.ts';
import { configFor, schedulerNames } from '../../src/simulate/schedulers.ts';
import { parseTrace } from '../../src/simulate/trace.ts';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const TRACES = readdirSync(new URL('examples/traces/', root)).filter((f) => f.endsWith('.jsonl')).sort();
const CONFIGS = readdirSync(new URL('examples/', root)).filter((f) => f.startsWith('simulate') && f.endsWith('.yaml')).sort();

describe('examples', () => {
  it('examples/traces are the bench traces as JSON Lines (node bench/traces/to-jsonl.ts)', () => {
    const bench = benchTraces();
    assert.deepEqual(TRACES, bench.map((b) => `${b.name}.jsonl`));
    for (const b of bench) assert.equal(read(`examples/traces/${b.name}.jsonl`), b.text, b.name);
  });

  it('every scheduler serves every request of every trace under every example config', () => {
    assert.ok(CONFIGS.length >= 2 && TRACES.length >= 3);
    for (const file of CONFIGS) {
      const text = read(`examples/${file}`);
      const base = parseConfig(text, { env: {}, source: file });
      assert.deepEqual(base.warnings, [], file);
      for (const trace of TRACES) {
        const requests = parseTrace(read(`examples/traces/${trace}`));
        for (const name of schedulerNames()) {
          const s = summarize(name, simulateRun(configFor(text, base, name, { env: {} }), requests));
          assert.deepEqual([s.served, s.failed, s.unfinished], [requests.length, 0, 0], `${file} ${trace} ${name}`);
          assert.ok(s.swaps >= 1 && s.makespanMs > 0);
        }
      }
    }
  });

  it("the README's example runs print what the README shows", () => {
    const blocks = [...read('README.md').matchAll(/```\n\$ modelswap simulate (.*)\n([\s\S]*?)```/g)];
    assert.ok(blocks.length >= 2);
    for (const [, args, shown] of blocks) {
      let out = '';
      const code = runSimulate(args!.split(' '), { stdout: (s) => void (out += s), stderr: () => {}, readFile: read, env: {} });
      assert.equal(code, 0, args);
      assert.equal(out, shown, args);
    }
  });
});
