import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issuesOf, load, oneIssue } from './helpers.ts';

const MODELS = `
models:
  a: { cmd: s, proxy: "http://h", aliases: [alpha] }
  b: { cmd: s, proxy: "http://h" }
  c: { cmd: s, proxy: "http://h" }
  d: { cmd: s, proxy: "http://h" }
`;

describe('groups', () => {
  it('puts every model in (default) when no groups are configured', () => {
    assert.deepEqual(load(MODELS).groups, [
      { id: '(default)', members: ['a', 'b', 'c', 'd'], swap: true, exclusive: true, persistent: false },
    ]);
  });

  it('reads routing.router.settings.groups with defaults, then (default) for the rest', () => {
    const c = load(`${MODELS}
routing:
  router:
    use: group
    settings:
      groups:
        pair: { members: [c, a] }
        solo: { members: [b], swap: false, exclusive: false, persistent: true }
`);
    assert.deepEqual(c.groups, [
      { id: 'pair', members: ['c', 'a'], swap: true, exclusive: true, persistent: false },
      { id: 'solo', members: ['b'], swap: false, exclusive: false, persistent: true },
      { id: '(default)', members: ['d'], swap: true, exclusive: true, persistent: false },
    ]);
  });

  it('reads the legacy top-level groups the same way', () => {
    const legacy = load(`${MODELS}\ngroups: { pair: { members: [c, a] } }`);
    const routed = load(`${MODELS}\nrouting: { router: { settings: { groups: { pair: { members: [c, a] } } } } }`);
    assert.deepEqual(legacy.groups, routed.groups);
    assert.equal(legacy.groups.length, 2);
  });

  it('omits (default) when every model is grouped', () => {
    const c = load(`${MODELS}\ngroups: { all: { members: [a, b, c, d] } }`);
    assert.deepEqual(
      c.groups.map((g) => g.id),
      ['all'],
    );
  });

  it('rejects both forms at once', () => {
    oneIssue(
      `${MODELS}\ngroups: { g: { members: [a] } }\nrouting: { router: { use: group } }`,
      'groups',
      /legacy top-level groups and routing.router cannot be used together/,
    );
  });

  it('rejects a model in two groups, unknown members, aliases and repeats, all at once', () => {
    const issues = issuesOf(`${MODELS}
groups:
  g1: { members: [a, b, b] }
  g2: { members: [a, zz, alpha] }
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.message]),
      [
        ['groups.g1.members[2]', 'model "b" is listed twice in this group'],
        ['groups.g2.members[0]', 'model "a" is already in group "g1": a model may be in only one group'],
        ['groups.g2.members[1]', 'unknown model "zz"'],
        ['groups.g2.members[2]', '"alpha" is an alias of model "a": groups list model ids'],
      ],
    );
  });

  it('requires members and rejects the reserved (default) id and unknown group keys', () => {
    const issues = issuesOf(`${MODELS}
groups:
  nomembers: { swap: false }
  "(default)": { members: [a] }
  typo: { members: [b], exclusiv: false }
`);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['groups.nomembers.members', 'groups.(default)', 'groups.typo.exclusiv'],
    );
    assert.match(issues[2]?.message ?? '', /unknown key "exclusiv" \(did you mean exclusive\?\)/);
    assert.match(issues[1]?.message ?? '', /"\(default\)" is a reserved name/);
  });
});

describe('scheduler', () => {
  it('defaults to serial', () => {
    assert.deepEqual(load(MODELS).scheduler, { use: 'serial' });
    assert.deepEqual(load(`${MODELS}\nrouting: { scheduler: { use: serial } }`).scheduler, { use: 'serial' });
  });

  it('reads fifo priorities, resolving aliases to model ids', () => {
    const c = load(`${MODELS}
routing:
  scheduler:
    use: fifo
    settings: { fifo: { priority: { alpha: 5, b: -1 } } }
`);
    assert.deepEqual(c.scheduler, {
      use: 'fifo',
      priority: new Map([
        ['a', 5],
        ['b', -1],
      ]),
    });
    assert.deepEqual(load(`${MODELS}\nrouting: { scheduler: { use: fifo } }`).scheduler, { use: 'fifo', priority: new Map() });
  });

  it('rejects unknown, repeated and non-integer priorities', () => {
    const issues = issuesOf(`${MODELS}
routing:
  scheduler:
    use: fifo
    settings: { fifo: { priority: { a: 1, alpha: 2, nope: 3, b: 1.5 } } }
`);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['routing.scheduler.settings.fifo.priority.b', 'routing.scheduler.settings.fifo.priority.alpha', 'routing.scheduler.settings.fifo.priority.nope'],
    );
    const semantic = issuesOf(`${MODELS}
routing:
  scheduler:
    use: fifo
    settings: { fifo: { priority: { a: 1, alpha: 2, nope: 3 } } }
`);
    assert.deepEqual(
      semantic.map((i) => [i.path, i.message]),
      [
        ['routing.scheduler.settings.fifo.priority.alpha', 'model "a" already has a priority (via its id or another alias)'],
        ['routing.scheduler.settings.fifo.priority.nope', 'unknown model or alias "nope"'],
      ],
    );
  });

  it('rejects priorities with the serial scheduler and unknown schedulers', () => {
    oneIssue(
      `${MODELS}\nrouting: { scheduler: { settings: { fifo: { priority: { a: 1 } } } } }`,
      'routing.scheduler.settings.fifo.priority',
      /only apply to the fifo scheduler/,
    );
    oneIssue(`${MODELS}\nrouting: { scheduler: { use: lifo } }`, 'routing.scheduler.use', /one of serial, fifo, batch, got "lifo"/);
  });

  it('reads batch settings: maxWait in seconds (unset: undefined, the per-model default), priorities by id or alias', () => {
    const c = load(`${MODELS}
routing:
  scheduler:
    use: batch
    settings: { batch: { maxWait: 1.5, priority: { alpha: 2 } } }
`);
    assert.deepEqual(c.scheduler, { use: 'batch', priority: new Map([['a', 2]]), maxWaitMs: 1500 });
    assert.deepEqual(load(`${MODELS}\nrouting: { scheduler: { use: batch } }`).scheduler, { use: 'batch', priority: new Map(), maxWaitMs: undefined });
  });

  it('rejects batch settings with another scheduler, a negative maxWait and unknown batch priorities', () => {
    oneIssue(
      `${MODELS}\nrouting: { scheduler: { use: fifo, settings: { batch: { maxWait: 1 } } } }`,
      'routing.scheduler.settings.batch',
      /only apply to the batch scheduler/,
    );
    oneIssue(`${MODELS}\nrouting: { scheduler: { use: batch, settings: { batch: { maxWait: -1 } } } }`, 'routing.scheduler.settings.batch.maxWait', />= 0|minimum|≥ 0/);
    oneIssue(
      `${MODELS}\nrouting: { scheduler: { use: batch, settings: { batch: { priority: { nope: 1 } } } } }`,
      'routing.scheduler.settings.batch.priority.nope',
      /unknown model or alias "nope"/,
    );
    oneIssue(
      `${MODELS}\nrouting: { scheduler: { use: batch, settings: { fifo: { priority: { a: 1 } } } } }`,
      'routing.scheduler.settings.fifo.priority',
      /only apply to the fifo scheduler/,
    );
  });
});

describe('hooks.on_startup.preload', () => {
  it('resolves ids and aliases, trimmed, in order, without repeats', () => {
    const c = load(`${MODELS}\nhooks: { on_startup: { preload: [" b ", alpha, a] } }`);
    assert.deepEqual(c.preload, ['b', 'a']);
  });

  it('rejects unknown names (llama-swap drops them silently)', () => {
    oneIssue(`${MODELS}\nhooks: { on_startup: { preload: [a, bb] } }`, 'hooks.on_startup.preload[1]', /unknown model or alias "bb"/);
  });
});
