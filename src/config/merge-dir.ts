/**
 * `--config-dir`: several YAML files read as one config, with llama-swap's
 * merge rules. The files' plain data (after `${env.*}` and YAML parsing, each
 * on its own) is merged in the order given: the `--config` file first, then
 * the directory's files by name.
 *
 * Rules, for a key that two files both set:
 * 1. Under an identity map (`models`, `groups`, `profiles`, `selectors`,
 *    `peers`, `matrix`, and every map directly under
 *    `routing.router.settings`), each key names one thing (a model, a group…):
 *    defining it twice is an error naming both files.
 * 2. Two maps are merged key by key, recursively.
 * 3. Two sequences are concatenated (e.g. `apiKeys`).
 * 4. `null` (an empty value) gives way to the other value.
 * 5. Two scalars must be equal; anything else (different values, a map
 *    against a scalar) is an error naming both files.
 * A file whose top level is not a map is an error; an empty file adds nothing.
 *
 * Besides the data, the merge keeps where each part came from, so a problem
 * found later (schema, normalize) is reported at its file and line.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatPath, showValue } from './issues.ts';
import type { IssueList, KeyPath } from './issues.ts';

export interface SourceData {
  /** The file, as the user named it (shown in messages). */
  readonly file: string;
  readonly data: unknown;
}

/** Where a key path of the merged data is: a file, and the key path inside it. */
export interface SourcePlace {
  readonly file: string;
  readonly path: KeyPath;
}

export interface MergedSources {
  /** Plain data; `{}` when every file was empty. */
  readonly data: Record<string, unknown>;
  /** The file that defined `path` (the first one, for a map several files add to), and the path inside it. */
  placeOf(path: KeyPath): SourcePlace | undefined;
}

/**
 * Every `*.yml`/`*.yaml` entry directly in `dir` that is a file (a symlink to
 * one counts), sorted by name (code-unit order, as Go's sort.Strings).
 * Throws the fs error when `dir` cannot be read.
 */
export function listConfigDir(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => join(dir, name))
    .filter((file) => statSync(file, { throwIfNoEntry: false })?.isFile() === true);
}

/** The `--config` file found again among the directory's files, if it is there (compared as absolute paths). */
export function sameFile(config: string, dirFiles: readonly string[]): string | undefined {
  const abs = resolve(config);
  return dirFiles.find((f) => resolve(f) === abs);
}

/** An origin: the file and path that a subtree of the merged data came from, with overrides for parts merged in from elsewhere. */
interface Origin {
  readonly file: string;
  readonly path: KeyPath;
  children?: Map<string | number, Origin>;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const IDENTITY_TOP = new Set(['models', 'groups', 'profiles', 'selectors', 'peers', 'matrix']);

function isIdentityMap(path: KeyPath): boolean {
  const [a, b, c] = path;
  return (path.length === 1 && IDENTITY_TOP.has(String(a))) || (path.length === 4 && a === 'routing' && b === 'router' && c === 'settings');
}

/** Merges the sources in order (see the file comment); problems go to `issues`, and then the data is not to be used. */
export function mergeSources(sources: readonly SourceData[], issues: IssueList): MergedSources {
  const data: Record<string, unknown> = {};
  const root: Origin = { file: sources[0]?.file ?? '', path: [] };

  const child = (o: Origin, seg: string | number): Origin => o.children?.get(seg) ?? { file: o.file, path: [...o.path, seg] };
  const setChild = (o: Origin, seg: string | number, c: Origin): void => void (o.children ??= new Map()).set(seg, c);

  /** Merges map `src` (at `srcPath` in `file`) into map `dst` (at `path`, whose origin is `origin`). */
  const mergeMap = (dst: Record<string, unknown>, src: Record<string, unknown>, origin: Origin, path: KeyPath, file: string, srcPath: KeyPath): void => {
    const identity = isIdentityMap(path);
    for (const [key, value] of Object.entries(src)) {
      const here = [...path, key];
      const fresh: Origin = { file, path: [...srcPath, key] };
      if (!Object.hasOwn(dst, key)) {
        dst[key] = value;
        setChild(origin, key, fresh);
        continue;
      }
      const old = dst[key];
      const was = child(origin, key);
      if (identity) {
        // 1.
        issues.add(here, `${formatPath(path)} ${JSON.stringify(key)} is defined in both ${was.file} and ${file}; define it in one file`);
      } else if (old === null || old === undefined) {
        dst[key] = value; // 4.
        setChild(origin, key, fresh);
      } else if (value === null || value === undefined) {
        // 4. the earlier value stays
      } else if (isMap(old) && isMap(value)) {
        const copy = { ...old }; // the sources' own objects are never changed
        dst[key] = copy;
        setChild(origin, key, was);
        mergeMap(copy, value, was, here, file, fresh.path); // 2.
      } else if (Array.isArray(old) && Array.isArray(value)) {
        dst[key] = [...(old as unknown[]), ...(value as unknown[])]; // 3.
        setChild(origin, key, was);
        value.forEach((_, i) => setChild(was, old.length + i, { file, path: [...fresh.path, i] }));
      } else if (isMap(old) || isMap(value) || Array.isArray(old) || Array.isArray(value)) {
        issues.add(here, `${kind(old)} in ${was.file} but ${kind(value)} in ${file}; the files cannot be merged`); // 5.
      } else if (old !== value) {
        issues.add(here, `${showValue(old)} in ${was.file} but ${showValue(value)} in ${file}; a value set in two files must be the same`); // 5.
      }
    }
  };

  for (const { file, data: top } of sources) {
    if (top === null || top === undefined) continue; // an empty file
    if (isMap(top)) mergeMap(data, top, root, [], file, []);
    else issues.add([], `the top level of ${file} must be a map of config keys, got ${kind(top)}`);
  }

  const placeOf = (path: KeyPath): SourcePlace | undefined => {
    if (sources.length === 0) return undefined;
    let o = root;
    for (const seg of path) o = child(o, seg);
    return { file: o.file, path: o.path };
  };
  return { data, placeOf };
}

function kind(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (isMap(v)) return 'a map';
  return `a value (${showValue(v)})`;
}
