/**
 * Where `${DEVICE}` may be used. The macro phase (expand.ts) lets it through
 * in a model's cmd and env only; this check, once the router is known, keeps
 * it to models the memory router places on a GPU: `routing.router.use:
 * memory` and a `resources.vram` above 0. Anywhere else it could only ever be
 * empty, and an empty `CUDA_VISIBLE_DEVICES` hides every GPU: the server
 * would start on the CPU without a word, so the load fails instead.
 */
import type { IssueList, KeyPath } from './issues.ts';
import type { RawConfig } from './raw.ts';
import type { RouterConfig } from './types.ts';
import { isMap } from './is-map.ts';

const DEVICE = '${DEVICE}';

/** The strings of a model's cmd and env that use `${DEVICE}`, with their key paths. */
function uses(id: string, model: Record<string, unknown>): Array<{ path: KeyPath; text: string }> {
  const out: Array<{ path: KeyPath; text: string }> = [];
  const cmd = model['cmd'];
  if (typeof cmd === 'string' && cmd.includes(DEVICE)) out.push({ path: ['models', id, 'cmd'], text: cmd });
  const env = model['env'];
  if (Array.isArray(env)) {
    env.forEach((line: unknown, i) => {
      if (typeof line === 'string' && line.includes(DEVICE)) out.push({ path: ['models', id, 'env', i], text: line });
    });
  }
  return out;
}

/** An issue at every `${DEVICE}` of a model the memory router does not place on a GPU. */
export function checkDeviceMacro(raw: RawConfig, router: RouterConfig, issues: IssueList): void {
  const models = isMap(raw.models) ? raw.models : {};
  for (const id of Object.keys(models).sort()) {
    const model = models[id];
    if (!isMap(model) || issues.touches(['models', id, 'resources'])) continue;
    const found = uses(id, model);
    if (found.length === 0) continue;
    let why: string | undefined;
    if (router.use !== 'memory') {
      why = `routing.router.use is ${router.use}: only the memory router sets it (routing.router.use: memory, and resources: { vram: ..., device: [0, 1] } on this model)`;
    } else if ((router.memory.needs.get(id)?.vram ?? 0) === 0) {
      why = 'this model declares no resources.vram, so it is never placed on a GPU: declare what it needs (resources: { vram: ..., device: [0, 1] })';
    }
    if (why === undefined) continue;
    for (const { path, text } of found) issues.add(path, `\${DEVICE} is the GPU the memory router places the model on, but ${why}`, text);
  }
}
