/**
 * Re-reading the config file (SIGHUP, --watch-config). A config that does not
 * load is rejected with all its problems and the running one stays in force;
 * a valid one is handed to `apply`. Reloads never overlap: one that is asked
 * for while another runs happens after it (and only once).
 */
import { stat, statSync, type Stats } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError, loadConfigFile } from './config/load.ts';
import type { Config } from './config/types.ts';
import type { ModelDiff } from './router/reload.ts';

export interface ReloaderOptions {
  readonly path: string;
  readonly logger: Logger;
  /** Switch to a new, valid config. */
  readonly apply: (config: Config) => Promise<ModelDiff>;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export type ReloadOutcome =
  | { readonly kind: 'applied'; readonly diff: ModelDiff }
  | { readonly kind: 'rejected'; readonly error: ConfigError };

export class ConfigReloader {
  readonly #opts: ReloaderOptions;
  #running: Promise<ReloadOutcome> | undefined;
  #again: Promise<ReloadOutcome> | undefined;
  #stopWatching: (() => void) | undefined;

  constructor(opts: ReloaderOptions) {
    this.#opts = opts;
  }

  /** Reload now (or right after the reload in progress). */
  reload(): Promise<ReloadOutcome> {
    if (this.#running === undefined) {
      this.#running = this.#once().finally(() => (this.#running = undefined));
      return this.#running;
    }
    this.#again ??= this.#running.then(() => {
      this.#again = undefined;
      return this.reload();
    });
    return this.#again;
  }

  /**
   * Poll the file's status every `intervalMs` and reload when its size,
   * modification time or inode differs from what was last seen (the baseline
   * is taken now, synchronously). Polling (not inotify) also follows editors
   * that replace the file and Kubernetes' symlink swaps; a missing file is
   * waited out.
   */
  watch(intervalMs = 1000): void {
    if (this.#stopWatching !== undefined) return;
    const { path, logger } = this.#opts;
    const key = (st: Stats | undefined): string => (st === undefined ? 'missing' : `${st.mtimeMs}:${st.size}:${st.ino}`);
    let seen = key(statSync(path, { throwIfNoEntry: false }));
    const timer = setInterval(() => {
      stat(path, (err, st) => {
        const now = err === null ? key(st) : 'missing';
        if (now === seen) return;
        seen = now;
        if (err !== null) return; // mid-replace or deleted: wait for it to come back
        logger.info({ path }, 'config file changed: reloading');
        void this.reload();
      });
    }, intervalMs);
    timer.unref();
    this.#stopWatching = () => clearInterval(timer);
  }

  close(): void {
    this.#stopWatching?.();
    this.#stopWatching = undefined;
  }

  async #once(): Promise<ReloadOutcome> {
    const { path, logger } = this.#opts;
    let config: Config;
    try {
      config = await loadConfigFile(path, this.#opts.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      logger.error({ path, problems: err.issues.length }, `config reload rejected; the running config stays in force.\n${err.message}`);
      return { kind: 'rejected', error: err };
    }
    const diff = await this.#opts.apply(config);
    return { kind: 'applied', diff };
  }
}
