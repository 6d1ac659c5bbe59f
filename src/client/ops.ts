/**
 * `modelswap load <model>` (`POST /api/models/load/<model>`: loads it as a
 * request would, evicting by the same rules, and answers once it is ready)
 * and `modelswap unload [<model>]` (`POST /api/models/unload[/<model>]`:
 * answers once the servers have stopped).
 */
import { call, callJson, segment, type Target } from './http.ts';
import { duration } from './table.ts';

export async function load(target: Target, model: string, json: boolean): Promise<number> {
  const body = await callJson<{ model: string; state: string; ms: number }>(target, 'POST', `/api/models/load/${segment(model)}`);
  process.stdout.write(json ? `${JSON.stringify(body)}\n` : `${body.model} is ${body.state} (${duration(body.ms)})\n`);
  return 0;
}

export async function unload(target: Target, model: string | undefined, json: boolean): Promise<number> {
  const res = await call(target, 'POST', model === undefined ? '/api/models/unload' : `/api/models/unload/${segment(model)}`);
  await res.body?.cancel();
  const what = model === undefined ? 'every model' : model;
  process.stdout.write(json ? `${JSON.stringify({ msg: 'ok', unloaded: model ?? null })}\n` : `unloaded ${what}\n`);
  return 0;
}
