/**
 * The normalized, validated, deep-frozen configuration every other layer reads.
 * Produced only by `parseConfig`/`loadConfigFile` (src/config/load.ts) from YAML; tests may build
 * it directly. Durations are milliseconds here (seconds in YAML).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogToStdout = 'proxy' | 'upstream' | 'both' | 'none';

export interface ModelConfig {
  /** The key under `models:`; also `${MODEL_ID}`. */
  readonly id: string;
  /** argv after comment removal, macro expansion and shell-like splitting (no shell). */
  readonly cmd: readonly string[];
  /** argv of `cmdStop`, with the literal `${PID}` left in place for the process layer; undefined = SIGTERM to the group. */
  readonly cmdStop: readonly string[] | undefined;
  /** Upstream base URL without trailing slash, e.g. `http://127.0.0.1:5800`. */
  readonly proxy: string;
  /** Health path polled until 200, or null for `none` (ready as soon as spawned). */
  readonly checkEndpoint: string | null;
  /** Extra environment, applied over the proxy's own. */
  readonly env: Readonly<Record<string, string>>;
  /** Idle time before unload; 0 = never. Already resolved against globalTTL. */
  readonly ttlMs: number;
  /** Grace between SIGTERM (or cmdStop) and SIGKILL of the group. */
  readonly unloadTimeoutMs: number;
  /** Max time from spawn to healthy. */
  readonly healthCheckTimeoutMs: number;
  readonly aliases: readonly string[];
  /** If set, the forwarded request's `model` is rewritten to this. */
  readonly useModelName: string | undefined;
  readonly unlisted: boolean;
  readonly name: string | undefined;
  readonly description: string | undefined;
  /** Arbitrary JSON (macros keep their types). */
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
  /** Max admitted (queued + loading + serving) requests; default 10. */
  readonly concurrencyLimit: number;
}

export interface GroupConfig {
  readonly id: string;
  readonly members: readonly string[];
  /** Only one member runs at a time. */
  readonly swap: boolean;
  /** Loading a member unloads every other non-persistent group. */
  readonly exclusive: boolean;
  /** Other groups can never evict this group's members. */
  readonly persistent: boolean;
}

export type SchedulerConfig =
  | { readonly use: 'serial' }
  | { readonly use: 'fifo'; readonly priority: ReadonlyMap<string, number> };

export interface Config {
  /** Model id -> model, in sorted id order. */
  readonly models: ReadonlyMap<string, ModelConfig>;
  /** Alias -> model id. */
  readonly aliases: ReadonlyMap<string, string>;
  /** Every model is in exactly one group; ungrouped models are in `(default)`. */
  readonly groups: readonly GroupConfig[];
  readonly scheduler: SchedulerConfig;
  readonly healthCheckTimeoutMs: number;
  readonly logLevel: LogLevel;
  readonly logToStdout: LogToStdout;
  readonly apiKeys: readonly string[];
  readonly includeAliasesInList: boolean;
  /** Model ids (aliases resolved) to load at start-up, in order. */
  readonly preload: readonly string[];
  /** Request bodies larger than this get 413. */
  readonly maxBodyBytes: number;
}
