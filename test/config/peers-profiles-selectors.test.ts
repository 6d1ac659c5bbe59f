import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issuesOf, load, oneIssue } from './helpers.ts';

const M = 'cmd: "srv ${PORT}"';
const MODELS = `models:\n  a: { ${M}, aliases: [a1] }\n  b: { ${M} }\n`;

describe('peers', () => {
  it('names every peer model <peer>/<model>, and the bare id only when one peer alone has it and no local name is spelled so', () => {
    const c = load(`${MODELS}peers:
  p1: { proxy: "http://10.0.0.2:8080/", apiKey: k, models: [x, y, a, x] }
  p2: { proxy: "https://api.example/v1", models: [y, a1] }
`);
    assert.deepEqual([...c.peerModels.keys()].sort(), ['p1/a', 'p1/x', 'p1/y', 'p2/a1', 'p2/y', 'x']);
    assert.deepEqual(c.peerModels.get('x'), { peer: 'p1', model: 'x', fqn: 'p1/x' });
    assert.deepEqual(c.peers.get('p1')?.models, ['x', 'y', 'a'], 'repeats dropped');
    assert.equal(c.peers.get('p1')?.proxy, 'http://10.0.0.2:8080');
    assert.equal(c.peers.get('p2')?.apiKey, undefined);
    assert.deepEqual(c.peers.get('p2')?.timeouts, { connectMs: 30_000, responseHeaderMs: 60_000 });
  });

  it('rejects an ambiguous full name, one a local id or alias takes, and a proxy that is not an http(s) URL', () => {
    const issues = issuesOf(`models:\n  "p/x": { ${M} }\n  b: { ${M}, aliases: ["q/y"] }
peers:
  p: { proxy: "http://h", models: [x] }
  q: { proxy: "ftp://h", models: [y] }
`);
    assert.deepEqual(issues.map((i) => [i.path, i.message]), [
      ['peers.p.models[0]', '"p/x" (this peer model\'s full name) is also a model id'],
      ['peers.q.proxy', 'expected an http(s) URL such as http://192.168.1.23:8080, got "ftp://h"'],
      ['peers.q.models[0]', '"q/y" (this peer model\'s full name) is also an alias of model "b"'],
    ]);
    oneIssue(`${MODELS}peers:\n  p: { proxy: "http://h", models: ["z/w"] }\n  "p/z": { proxy: "http://h", models: [w] }\n`, 'peers["p/z"].models[0]', /"p\/z\/w" is ambiguous: it also names model "z\/w" of peer "p"/);
  });
});

describe('selectors', () => {
  const GROUPS = 'routing: { router: { settings: { groups: { g: { swap: false, members: [a, b] } } } }, scheduler: { use: fifo } }';

  it('loads the three strategies with their defaults', () => {
    const c = load(`${MODELS}${GROUPS}\npeers: { p: { proxy: "http://h", models: [x] } }
selectors:
  w: { strategy: warm, targets: [a1, b], name: " W ", metadata: { k: 1 } }
  s: { strategy: spillover, targets: [a, b, p/x], settings: { spillover: 3 } }
  pinned: { strategy: pin, targets: [x], unlisted: true }
`);
    assert.deepEqual([...c.selectors.keys()], ['pinned', 's', 'w']);
    assert.equal(c.selectors.get('s')?.spillover, 3);
    assert.equal(c.selectors.get('w')?.spillover, 1);
    assert.equal(c.selectors.get('pinned')?.unlisted, true);
    assert.deepEqual(c.warnings, []);
  });

  it('rejects a clash with a model or alias, a chained selector, an unknown target, a remote warm target and duplicate spillover targets', () => {
    const issues = issuesOf(`${MODELS}${GROUPS}\npeers: { p: { proxy: "http://h", models: [x] } }
selectors:
  a1: { strategy: pin, targets: [a] }
  chain: { strategy: pin, targets: [w] }
  w: { strategy: warm, targets: [x, nope] }
  s: { strategy: spillover, targets: [a, a1] }
`);
    assert.deepEqual(issues.map((i) => i.path), ['selectors.a1', 'selectors.chain.targets[0]', 'selectors.w.targets[0]', 'selectors.w.targets[1]', 'selectors.s.targets[1]']);
    assert.match(issues[0]!.message, /selector id "a1" is also an alias of model "a"/);
    assert.match(issues[1]!.message, /"w" is a selector.*do not chain/);
    assert.match(issues[2]!.message, /"x" is a peer model: a warm selector/);
    assert.match(issues[3]!.message, /unknown model, alias or peer model "nope"/);
    assert.match(issues[4]!.message, /same model as targets\[0\] \("a"\)/);
  });

  it('requires the local targets of a spillover selector to run together, and warns that the serial scheduler never runs them together', () => {
    oneIssue(`${MODELS}selectors: { s: { strategy: spillover, targets: [a, b] } }`, 'selectors.s.targets', /must run together: put a, b in one group with swap: false/);
    const c = load(`${MODELS}routing: { router: { settings: { groups: { g: { swap: false, members: [a, b] } } } } }\nselectors: { s: { strategy: spillover, targets: [a, b] } }`);
    assert.deepEqual(c.warnings.map((w) => w.path), ['selectors.s.targets']);
    assert.match(c.warnings[0]!.message, /serial scheduler runs one model at a time/);
  });
});

describe('profiles', () => {
  it('keeps pins to models, aliases, peer models and selectors; "" and ~ disable an id', () => {
    const c = load(`${MODELS}peers: { p: { proxy: "http://h", models: [x] } }
selectors: { sel: { strategy: pin, targets: [b] } }
profiles:
  work: { description: Work, pins: { llm: a1, remote: p/x, pick: sel, off: "", gone: ~ } }
`);
    assert.deepEqual(c.profiles.get('work'), {
      id: 'work', description: 'Work',
      pins: new Map<string, string | null>([['llm', 'a1'], ['remote', 'p/x'], ['pick', 'sel'], ['off', null], ['gone', null]]),
    });
  });

  it('rejects a pin to an unknown name and a pin named like a peer model', () => {
    const issues = issuesOf(`${MODELS}peers: { p: { proxy: "http://h", models: [x] } }\nprofiles: { w: { pins: { llm: nope, "p/x": a } } }`);
    assert.deepEqual(issues.map((i) => i.path), ['profiles.w.pins.llm', 'profiles.w.pins["p/x"]']);
    assert.match(issues[0]!.message, /unknown model, alias, peer model or selector "nope"/);
    assert.match(issues[1]!.message, /pin "p\/x" is the full name of model "x" of peer "p"/);
  });
});
