import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simulateDefaults } from '../../src/config/simulate-options.ts';
import { model, oneIssue } from '../config/helpers.ts';

describe('models.<id>.simulate', () => {
  it('defaults to the schema defaults, with or without a block', () => {
    assert.deepEqual(simulateDefaults(), { loadMs: 10_000, stopMs: 1000 });
    assert.deepEqual(model('models: { m: { cmd: "srv ${PORT}" } }', 'm').simulate, { loadMs: 10_000, stopMs: 1000 });
    assert.deepEqual(model('models: { m: { cmd: "srv ${PORT}", simulate: {} } }', 'm').simulate, { loadMs: 10_000, stopMs: 1000 });
    assert.deepEqual(model('models: { m: { cmd: "srv ${PORT}", simulate: { stopMs: 5 } } }', 'm').simulate, { loadMs: 10_000, stopMs: 5 });
  });

  it('takes values and macros', () => {
    const yaml = 'macros: { l: 2500 }\nmodels: { m: { cmd: "srv ${PORT}", simulate: { loadMs: "${l}", stopMs: 0.5 } } }';
    assert.deepEqual(model(yaml, 'm').simulate, { loadMs: 2500, stopMs: 0.5 });
  });

  it('refuses negative times and unknown keys, naming the key', () => {
    oneIssue('models: { m: { cmd: "srv ${PORT}", simulate: { loadMs: -1 } } }', 'models.m.simulate.loadMs', />= 0/);
    oneIssue('models: { m: { cmd: "srv ${PORT}", simulate: { load: 5 } } }', 'models.m.simulate.load', /unknown key "load"/);
  });
});
