/**
 * Re-reading the config (SIGHUP, --watch-config): the --config file and/or
 * the --config-dir folder. A config that does not load is rejected with all
 * its problems and the running one stays in force; a valid one is handed to
 * `apply`. Reloads never overlap: one that is asked for while another runs
 * happens after it (and only once).
 */
import { statSync, type Stats } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError, loadConfigSources, type ConfigSources } from './config/load.ts';
import { listConfigDir } from './config/merge-dir.ts';
import type { Config } from './config/types.ts';
import type { ModelDiff } from './router/reload.ts';

export interface ReloaderOptions {
  readonly sources: ConfigSources;
  readonly logger: Logger;
  /** Switch to a new, valid config. */
  readonly apply: (config: Config) => Promise<ModelDiff>;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export type ReloadOutcome =
  | { readonly kind: 'applied'; readonly diff: ModelDiff }
  | { readonly kind: 'rejected'; readonly error: ConfigError }
  /** The config was valid but applying it failed (a bug): logged; what was applied of it stays. */
  | { readonly kind: 'failed'; readonly error: unknown };

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
   * Poll every `intervalMs` and reload when the --config file's size,
   * modification time or inode differs from what was last seen, or the set of
   * the folder's YAML files or any one's status does (the baseline is taken
   * now). Polling (not inotify) also follows editors that replace a file, bind
   * mounts and Kubernetes' symlink swaps; a missing --config file or folder is
   * waited out (a file removed from the folder is a change). Each poll is a
   * few synchronous stat calls, one per file.
   */
  watch(intervalMs = 1000): void {
    if (this.#stopWatching !== undefined) return;
    const { sources, logger } = this.#opts;
    let seen = snapshot(sources);
    const timer = setInterval(() => {
      const now = snapshot(sources);
      if (now.key === seen.key) return;
      seen = now;
      if (now.missing) return; // mid-replace or deleted: wait for it to come back
      logger.info({ config: sources.config, configDir: sources.configDir }, 'config changed: reloading');
      void this.reload();
    }, intervalMs);
    timer.unref();
    this.#stopWatching = () => clearInterval(timer);
  }

  close(): void {
    this.#stopWatching?.();
    this.#stopWatching = undefined;
  }

  async #once(): Promise<ReloadOutcome> {
    const { sources, logger } = this.#opts;
    let config: Config;
    try {
      config = await loadConfigSources(sources, this.#opts.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      logger.error({ config: sources.config, configDir: sources.configDir, problems: err.issues.length }, `config reload rejected; the running config stays in force.\n${err.message}`);
      return { kind: 'rejected', error: err };
    }
    try {
      return { kind: 'applied', diff: await this.#opts.apply(config) };
    } catch (err) {
      logger.error({ err, config: sources.config, configDir: sources.configDir }, 'config reload failed while it was applied (a bug): see the error');
      return { kind: 'failed', error: err };
    }
  }
}

/** What the watcher compares: every source file's status, and whether a source that must exist is missing. */
function snapshot(sources: ConfigSources): { key: string; missing: boolean } {
  const key = (st: Stats | undefined): string => (st === undefined ? 'missing' : `${st.mtimeMs}:${st.size}:${st.ino}`);
  const lines: string[] = [];
  let missing = false;
  if (sources.config !== undefined) {
    const st = statSync(sources.config, { throwIfNoEntry: false });
    missing ||= st === undefined;
    lines.push(`${sources.config}=${key(st)}`);
  }
  if (sources.configDir !== undefined) {
    try {
      for (const file of listConfigDir(sources.configDir)) lines.push(`${file}=${key(statSync(file, { throwIfNoEntry: false }))}`);
    } catch {
      missing = true;
      lines.push(`${sources.configDir}/=missing`);
    }
  }
  return { key: lines.join('\n'), missing };
}
