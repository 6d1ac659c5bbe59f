/** `hooks.on_startup.preload`: each model loaded in order, as a request would load it (so eviction rules apply). */
import type { Logger } from 'pino';
import type { Lease } from './grants.ts';

/** Acquire and release each model in turn; a failure is logged and the next model is still loaded. */
export async function preloadInOrder(models: readonly string[], acquire: (model: string) => Promise<Lease>, log: Logger): Promise<void> {
  for (const model of models) {
    try {
      (await acquire(model)).release();
      log.info({ model }, 'preloaded');
    } catch (err) {
      log.error({ model, err: (err as Error).message }, 'preload failed');
    }
  }
}
