import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { ProxyError } from '../../src/errors.ts';
import { dispatch, withQueryModel } from '../../src/server/dispatch.ts';
import { ActiveProfile } from '../../src/server/profiles.ts';
import { SelectorPicker } from '../../src/server/selectors.ts';

const config = parseConfig(`
models:
  a: { cmd: "s \${PORT}", aliases: [shared-alias] }
  x: { cmd: "s \${PORT}" }
peers:
  p: { proxy: "http://h", models: [x, y, shared-alias, only-here] }
  q: { proxy: "http://h2", models: [y] }
selectors:
  sel: { strategy: pin, targets: [p/y] }
profiles:
  work: { pins: { llm: sel, a: p/only-here, off: ~, x: a } }
`, { env: {} });

function setup(active?: string): (name: string) => { name: string; to: string } {
  const profiles = new ActiveProfile(config);
  if (active !== undefined) profiles.set(active);
  const deps = { config, profiles, selectors: new SelectorPicker(config), status: () => 'stopped' };
  return (name) => {
    const d = dispatch(deps, name);
    d.release();
    return { name: d.name, to: d.destination.kind === 'local' ? `local:${d.destination.model}` : `peer:${d.destination.route.fqn}` };
  };
}

const notFound = (err: unknown): boolean => err instanceof ProxyError && err.code === 'MODEL_NOT_FOUND';

describe('resolution order without a profile', () => {
  const go = setup();
  it('a model id, then an alias, then a peer full name, then a bare id one peer alone serves', () => {
    assert.deepEqual(go('x'), { name: 'x', to: 'local:x' }, 'the local id wins over the peer model of that id');
    assert.deepEqual(go('shared-alias'), { name: 'shared-alias', to: 'local:a' }, 'an alias wins too');
    assert.deepEqual(go('p/x'), { name: 'p/x', to: 'peer:p/x' });
    assert.deepEqual(go('only-here'), { name: 'only-here', to: 'peer:p/only-here' });
    assert.throws(() => go('y'), notFound, 'two peers serve y: only by full name');
    assert.deepEqual(go('q/y'), { name: 'q/y', to: 'peer:q/y' });
  });

  it('a selector id is replaced by its pick', () => {
    assert.deepEqual(go('sel'), { name: 'p/y', to: 'peer:p/y' });
  });

  it('pins do nothing while no profile is active', () => {
    assert.throws(() => go('llm'), notFound);
    assert.throws(() => go('off'), notFound);
  });
});

describe('with a profile active', () => {
  const go = setup('work');
  it('pins apply before selectors, aliases and peers, and do not chain', () => {
    assert.deepEqual(go('llm'), { name: 'p/y', to: 'peer:p/y' }, 'pin -> selector -> peer');
    assert.deepEqual(go('a'), { name: 'p/only-here', to: 'peer:p/only-here' }, 'a model id can be pinned away');
    assert.deepEqual(go('x'), { name: 'a', to: 'local:a' }, 'x -> a, and a is not pinned again');
  });

  it('a pin to nothing disables the id: 404', () => {
    assert.throws(() => go('off'), (err: unknown) => notFound(err) && /"off" is disabled by the active profile "work"/.test((err as Error).message));
  });
});

describe('ActiveProfile', () => {
  it('switches by name, to none with null, rejects an unknown name, and forgets the profile on a reloaded config (only)', () => {
    const profiles = new ActiveProfile(config);
    const activeId = (): string | undefined => profiles.active?.id; // read anew: an assertion must not narrow it
    assert.throws(() => profiles.set('nope'), (err: unknown) => err instanceof ProxyError && err.code === 'NOT_FOUND' && /unknown profile "nope"; profiles: work/.test(err.message));
    profiles.set('work');
    assert.equal(profiles.active?.id, 'work');
    profiles.set(null);
    assert.equal(profiles.active, undefined);
    profiles.set('work');
    profiles.reset(config);
    assert.equal(activeId(), 'work', 'the config it has: a second holder seeing it for the first time changes nothing');
    const reloaded = parseConfig('models: { a: { cmd: "s ${PORT}" } }\nprofiles: { work: { pins: { x: a } } }\n', { env: {} });
    profiles.reset(reloaded);
    assert.equal(activeId(), undefined, 'a reloaded config: none active');
    profiles.reset(reloaded);
    profiles.set('work');
    profiles.reset(reloaded);
    assert.equal(activeId(), 'work', 'switched on after the reload, it stays on');
  });

  it('pins the longest matching prefix of an /upstream path', () => {
    const profiles = new ActiveProfile(parseConfig(`
models: { a: { cmd: "s \${PORT}" }, b: { cmd: "s \${PORT}" } }
profiles: { w: { pins: { "org": a, "org/model": b, "dead": ~ } } }
`, { env: {} }));
    const segs = (path: string) => path.split('/');
    const pin = (path: string) => profiles.pinPrefix(segs(path).length, (n) => segs(path).slice(0, n).join('/'));
    assert.equal(pin('org/model/v1/x'), undefined, 'no profile active');
    profiles.set('w');
    assert.deepEqual(pin('org/model/v1/x'), { n: 2, target: 'b' });
    assert.deepEqual(pin('org/other/v1'), { n: 1, target: 'a' });
    assert.equal(pin('organic/v1'), undefined);
    assert.throws(() => pin('dead/health'), /disabled by the active profile "w"/);
  });
});

describe('withQueryModel', () => {
  it('sets ?model= only when the query has one', () => {
    assert.equal(withQueryModel(new URL('http://h/props?model=a&x=1'), 'b'), '/props?model=b&x=1');
    assert.equal(withQueryModel(new URL('http://h/props?x=1'), 'b'), '/props?x=1');
    assert.equal(withQueryModel(new URL('http://h/props?model=a'), undefined), '/props?model=a');
  });
});
