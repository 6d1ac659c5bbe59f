/**
 * The Dockerfile cannot be built here (no container engine), so this checks
 * what can go stale without one: every file it copies exists and is not
 * excluded by .dockerignore, its entrypoint is the package's bin, its default
 * arguments are flags the CLI accepts, and it exposes the port it listens on.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCliArgs, type CliArgs } from '../src/cli-args.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (f: string): string => readFileSync(join(ROOT, f), 'utf8');
/** Instructions (continuation lines joined, comments dropped) as [keyword, rest]. */
const instructions = read('Dockerfile')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
  .map((l) => /^(\w+)\s+(.*)$/.exec(l.trim())!.slice(1) as [string, string]);
const stages = instructions.reduce<[string, string][][]>((acc, ins) => (ins[0] === 'FROM' ? [...acc, [ins]] : (acc.at(-1)!.push(ins), acc)), []);
const runtime = stages.at(-1)!;
const json = (keyword: string): string[] => JSON.parse(runtime.find(([k]) => k === keyword)![1]) as string[];

test('every file the Dockerfile copies from the context exists and is not in .dockerignore', () => {
  const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const copied = instructions.filter(([k, rest]) => k === 'COPY' && !rest.startsWith('--from')).flatMap(([, rest]) => rest.split(/\s+/).slice(0, -1));
  assert.ok(copied.includes('src') && copied.includes('package-lock.json'), copied.join(' '));
  for (const src of copied) {
    assert.ok(existsSync(join(ROOT, src)), `COPY ${src}: no such file`);
    assert.ok(!ignored.includes(src), `COPY ${src} is excluded by .dockerignore`);
  }
});

test('the image runs the package\'s bin, built from tsconfig.build.json, with production dependencies only, not as root', () => {
  const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> };
  const build = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { outDir: string } };
  assert.equal(pkg.bin['modelswap'], `${build.compilerOptions.outDir}/cli.js`);
  assert.deepEqual(json('ENTRYPOINT').slice(-2), ['node', `/app/${pkg.bin['modelswap']}`]);
  assert.ok(stages[0]!.some(([k, rest]) => k === 'RUN' && rest.includes('tsc -p tsconfig.build.json')));
  assert.ok(runtime.some(([k, rest]) => k === 'RUN' && /npm ci --omit=dev/.test(rest)));
  assert.ok(runtime.some(([k, rest]) => k === 'COPY' && rest === `--from=build /src/${build.compilerOptions.outDir} ./dist`));
  // what the package ships besides the build is in the image too (the web UI's ui/ folder among it)
  const files = (JSON.parse(read('package.json')) as { files: string[] }).files;
  for (const f of files.filter((x) => x !== build.compilerOptions.outDir)) {
    assert.ok(runtime.some(([k, rest]) => k === 'COPY' && rest.split(/\s+/).slice(0, -1).includes(f)), `the runtime stage copies ${f}`);
  }
  const user = runtime.find(([k]) => k === 'USER')?.[1];
  assert.ok(user !== undefined && user !== 'root' && user !== '0', `USER ${user}`);
});

test('the default arguments are valid flags: the mounted config, every interface, the exposed port', () => {
  const args = parseCliArgs(json('CMD')) as CliArgs;
  assert.equal(args.kind, 'run');
  assert.equal(args.config, '/app/config.yaml');
  assert.deepEqual(args.listen, { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(runtime.filter(([k]) => k === 'EXPOSE').map(([, p]) => p), ['8080']);
});
