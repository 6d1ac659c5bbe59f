/**
 * Checks made before a request may reach the router (and so start a model):
 * a model that can never start fails at once, and an `/upstream` path listed
 * in `upstream.ignorePaths` never starts one.
 */
import type { Config, ModelConfig } from '../config/types.ts';
import { ProxyError } from '../errors.ts';
import { quote } from './quote.ts';

/** Throws UPSTREAM_START_FAILED with the config's reason when `model` can never start. */
export function assertCanStart(model: ModelConfig): void {
  if (model.startError !== undefined) throw new ProxyError('UPSTREAM_START_FAILED', model.startError);
}

/**
 * `/upstream/<model><path>`: a path matching `upstream.ignorePaths` (a UI's
 * static files, its polling) is served only by a model that is ready, and
 * gets 409 otherwise, so an open browser tab never swaps models.
 * `status` is a read of the model's process state: a model that stops just
 * after it is read as ready is started again by this request, as any other
 * request would start it.
 */
export function assertMayStart(config: Config, model: string, path: string, status: () => string): void {
  if (!config.upstreamIgnorePaths.some((re) => re.test(path))) return;
  if (status() === 'ready') return;
  throw new ProxyError('WOULD_START_MODEL', `model "${model}" is not ready and ${quote(path)} matches upstream.ignorePaths, so it does not start it`);
}
