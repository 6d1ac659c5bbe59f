/** Every Swapper through the conformance suite (./swapper.case.ts). */
import { compileMatrix } from '../../src/config/matrix-compile.ts';
import type { GroupConfig, ResourceNeed } from '../../src/config/types.ts';
import { createEvictAllSwapper, createGroupSwapper } from '../../src/scheduler/group-swapper.ts';
import { createMatrixSwapper } from '../../src/scheduler/matrix-swapper.ts';
import { createMemorySwapper } from '../../src/scheduler/memory-swapper.ts';
import { runSwapperSuite } from './swapper.case.ts';

const MODELS = ['a', 'b', 'c', 'd', 'e', 'unknown'];
const G = 2 ** 30;

const groups: GroupConfig[] = [
  { id: 'pair', members: ['a', 'b'], swap: true, exclusive: true, persistent: false },
  { id: 'free', members: ['c', 'd'], swap: false, exclusive: false, persistent: false },
  { id: 'pinned', members: ['e'], swap: false, exclusive: false, persistent: true },
];
runSwapperSuite({ name: 'group', models: MODELS, create: (log) => createGroupSwapper(groups, log) });
runSwapperSuite({ name: 'evict-all', models: MODELS, create: (log) => createEvictAllSwapper(log) });

const program = compileMatrix(
  [{ name: 'pair', dsl: '(a | b) & c' }, { name: 'wide', dsl: '+pair & (d | e)' }, { name: 'solo', dsl: 'e' }],
  (id) => ({ ok: true, id }),
).program;
runSwapperSuite({ name: 'matrix', models: MODELS, create: (log) => createMatrixSwapper({ program, evictCosts: new Map([['c', 5]]) }, log) });

const needs = new Map<string, ResourceNeed>([
  ['a', { vram: 10 * G, devices: ['0'], ram: 0 }],
  ['b', { vram: 12 * G, devices: ['0', '1'], ram: 0 }],
  ['c', { vram: 0, devices: undefined, ram: 20 * G }],
  ['d', { vram: 6 * G, devices: undefined, ram: 4 * G }],
  ['e', { vram: 4 * G, devices: ['1'], ram: 0 }],
]);
runSwapperSuite({
  name: 'memory',
  models: MODELS,
  create: (log) => createMemorySwapper({ budget: { devices: new Map([['0', 16 * G], ['1', 16 * G]]), ram: 24 * G }, needs, persistent: ['e'], log }),
});
