/**
 * Phase: macro expansion of the schema-checked tree (macros.ts has the rules).
 *
 * 1. Global macros: check references, resolve.
 * 2. Every top-level value except `models`/`macros` is expanded with the
 *    global scope (so `startPort: ${base}` works).
 * 3. Each model, in sorted id order:
 *    a. drop `#` comment lines from cmd/cmdStop (before expansion);
 *    b. merge its macros over the globals, check them, resolve with MODEL_ID;
 *    c. expand every value of the model (its `macros` excepted), and the keys
 *       of `filters.setParamsByID` (they are model ids, e.g. `${MODEL_ID}:high`);
 *    d. if cmd now uses ${PORT}: take the next port from startPort and expand
 *       ${PORT} throughout the model.
 * 4. Any `${...}` left (other than `${PID}` in cmdStop, and `${DEVICE}` in cmd
 *    and env, which the process layer replaces at spawn) is an issue at its path,
 *    except `${PORT}` in a proxy the config did not write (the default
 *    http://localhost:${PORT}) of a model whose cmd has no ${PORT}: llama-swap's
 *    own examples have such models, so it is a warning and the model is
 *    marked as unable to start (normalize.ts).
 *    Skipped for a scope whose macro definitions already had issues (the
 *    leftovers would only repeat them), and for `${env.NAME}`, which the env
 *    phase has reported already.
 *
 * The input is not mutated; the result is a new tree.
 */
import { stripCommentLines } from './command.ts';
import { didYouMean } from './issues.ts';
import type { IssueList, KeyPath } from './issues.ts';
import { checkRefs, eachString, entriesOf, expandValue, mergeEntries, refsIn, resolveScope, setOwn, substitute } from './macros.ts';
import type { Scope } from './macros.ts';

/** Source order of the map keys at a path (see yaml-doc.ts `keyOrder`). */
export type KeyOrderOf = (path: KeyPath) => readonly string[] | undefined;

type Tree = Record<string, unknown>;

const DEFAULT_START_PORT = 5800;
const MAX_PORT = 65535;
/** Model keys whose values are strings (or string lists): whole-value macros become text there. */
const MODEL_TEXT_KEYS = new Set(['cmd', 'cmdStop', 'proxy', 'checkEndpoint', 'name', 'description', 'useModelName', 'env', 'aliases']);
/** Same, for keys below the top level outside models. */
const TOP_TEXT_KEYS = new Set(['apiKeys', 'preload', 'members', 'use']);

function isMap(v: unknown): v is Tree {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function expandTop(value: unknown, scope: Scope, key: string): unknown {
  if (isMap(value)) {
    const out: Tree = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, expandTop(v, scope, k));
    return out;
  }
  return expandValue(value, scope, !TOP_TEXT_KEYS.has(key));
}

function expandModel(model: Tree, scope: Scope): Tree {
  const out: Tree = {};
  for (const [k, v] of Object.entries(model)) {
    setOwn(out, k, k === 'macros' ? v : expandValue(v, scope, !MODEL_TEXT_KEYS.has(k)));
  }
  const filters = out['filters'];
  const byId = isMap(filters) ? filters['setParamsByID'] : undefined;
  if (isMap(filters) && isMap(byId)) {
    const renamed: Tree = {};
    for (const [key, params] of Object.entries(byId)) setOwn(renamed, String(substitute(key, scope, false)), params);
    out['filters'] = { ...filters, setParamsByID: renamed };
  }
  return out;
}

/** The setParamsByID keys of an expanded model as a map key -> key, so step 4 can scan them like values. */
function byIdKeys(model: Tree): Tree {
  const filters = model['filters'];
  const byId = isMap(filters) ? filters['setParamsByID'] : undefined;
  const keys: Tree = {};
  if (isMap(byId)) for (const key of Object.keys(byId)) setOwn(keys, key, key);
  return keys;
}

/** What step 4 needs to know beyond the tree. */
export interface ExpandContext {
  readonly orderOf: KeyOrderOf;
  readonly issues: IssueList;
  readonly warnings: IssueList;
  /** Ids of the models whose proxy is the schema's default, not written in the config. */
  readonly defaultProxy: ReadonlySet<string>;
}

/** The text of the warning (and of the model's start error) for a defaulted proxy without a port. */
export function defaultProxyWithoutPort(id: string): string {
  return (
    `model "${id}" cannot start: its proxy defaults to http://localhost:\${PORT}, but its cmd does not use \${PORT}; ` +
    'set proxy to the address the server listens on (e.g. proxy: http://127.0.0.1:8080)'
  );
}

/** `cmdBroken`: the model's cmd already has an issue, so whether it uses ${PORT} is unknown. */
function leftoverMessage(ref: string, path: KeyPath, inModel: boolean, known: readonly string[], cmdBroken: boolean): string | undefined {
  const field = inModel ? path[2] : undefined;
  if (ref === 'PID') return field === 'cmdStop' ? undefined : '${PID} is only allowed in cmdStop';
  // Whether the model is one the memory router places on a GPU is checked once the router is known (device-macro.ts).
  if (ref === 'DEVICE') return field === 'cmd' || field === 'env' ? undefined : '${DEVICE} is only allowed in a model\'s cmd and env';
  if (ref.startsWith('env.')) return undefined; // reported by the env phase
  if (ref === 'PORT' || ref === 'MODEL_ID') {
    if (!inModel) return `\${${ref}} is only available inside a model`;
    if (cmdBroken) return undefined;
    if (field === 'proxy') return 'proxy uses ${PORT} but cmd does not: add ${PORT} to cmd, or set proxy to the address the server listens on';
    return '${PORT} is only available when the model\'s cmd uses ${PORT}';
  }
  return `unknown macro \${${ref}}${didYouMean(ref, known)} (to pass $NAME to a shell, write it without braces)`;
}

function scanLeftovers(value: unknown, path: KeyPath, inModel: boolean, scope: Scope, ctx: ExpandContext): void {
  const { issues } = ctx;
  const known = [...scope.keys()];
  const cmdBroken = inModel && issues.under([...path.slice(0, 2), 'cmd']);
  const id = String(path[1]);
  eachString(value, path, (text, at) => {
    for (const ref of new Set(refsIn(text))) {
      if (inModel && ref === 'PORT' && at.length === 3 && at[2] === 'proxy' && ctx.defaultProxy.has(id)) {
        ctx.warnings.add(at, defaultProxyWithoutPort(id));
        continue;
      }
      const message = leftoverMessage(ref, at, inModel, known, cmdBroken);
      if (message !== undefined) issues.add(at, message, text);
    }
  });
}

/** Runs steps 1-4 on `tree` (after the raw schema pass). Issues go to `ctx.issues`. */
export function expandConfig(tree: Tree, ctx: ExpandContext): Tree {
  const { orderOf, issues } = ctx;
  // 1.
  const globals = entriesOf(tree['macros'], orderOf(['macros']), ['macros']);
  const globalsOk = checkRefs(globals, () => true, issues);
  const globalScope = resolveScope(globals);

  // 2.
  const out: Tree = {};
  for (const [key, value] of Object.entries(tree)) {
    if (key === 'models' || key === 'macros') out[key] = value;
    else out[key] = expandTop(value, globalScope, key);
  }
  if (globalsOk) {
    for (const [key, value] of Object.entries(out)) {
      if (key !== 'models' && key !== 'macros') scanLeftovers(value, [key], false, globalScope, ctx);
    }
  }
  const sp = out['startPort'];
  let nextPort = typeof sp === 'number' && Number.isInteger(sp) && sp >= 1 ? sp : DEFAULT_START_PORT;

  // 3.
  const models = (tree['models'] ?? {}) as Record<string, Tree>;
  const expandedModels: Tree = {};
  for (const id of Object.keys(models).sort()) {
    const path = ['models', id];
    const source = models[id] as Tree;
    // 3a.
    const model: Tree = { ...source };
    for (const key of ['cmd', 'cmdStop']) {
      if (typeof model[key] === 'string') model[key] = stripCommentLines(model[key]);
    }
    if (typeof model['cmd'] === 'string' && model['cmd'].trim() === '') {
      issues.add([...path, 'cmd'], 'empty command: cmd only has comment lines', source['cmd']);
    }
    // 3b.
    const own = entriesOf(model['macros'], orderOf([...path, 'macros']), [...path, 'macros']);
    const ownNames = new Set(own.map((e) => e.name));
    const merged = mergeEntries(globals, own);
    const ownOk = checkRefs(merged, (e) => ownNames.has(e.name), issues);
    const scope = resolveScope(merged, new Map([['MODEL_ID', id]]));
    // 3c.
    let expanded = expandModel(model, scope);
    // 3d.
    const cmd = expanded['cmd'];
    if (typeof cmd === 'string' && cmd.includes('${PORT}')) {
      if (nextPort > MAX_PORT) issues.add(path, `no port left for \${PORT}: startPort + model count exceeds ${MAX_PORT}`);
      expanded = expandModel(expanded, new Map([['PORT', nextPort]]));
      nextPort++;
    }
    // 4.
    if (globalsOk && ownOk) {
      const { macros: _macros, ...rest } = expanded;
      scanLeftovers(rest, path, true, scope, ctx);
      scanLeftovers(byIdKeys(expanded), [...path, 'filters', 'setParamsByID'], true, scope, ctx);
    }
    setOwn(expandedModels, id, expanded);
  }
  out['models'] = expandedModels;
  return out;
}
