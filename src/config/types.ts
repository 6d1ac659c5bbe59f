/**
 * The normalized, validated, deep-frozen configuration every other layer reads.
 * Produced only by `parseConfig`/`loadConfigFile` (src/config/load.ts) from YAML; tests may build
 * it directly. Durations are milliseconds here (seconds in YAML).
 */
import type { ConfigIssue } from './issues.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogToStdout = 'proxy' | 'upstream' | 'both' | 'none';
/** '' = numeric pino time; otherwise the name of a Go time layout (log/time-format.ts). */
export type LogTimeFormat =
  | '' | 'ansic' | 'unixdate' | 'rubydate' | 'rfc822' | 'rfc822z' | 'rfc850' | 'rfc1123' | 'rfc1123z'
  | 'rfc3339' | 'rfc3339nano' | 'kitchen' | 'stamp' | 'stampmilli' | 'stampmicro' | 'stampnano';
export type Modality = 'text' | 'audio' | 'image';

/** JSON body edits on the inference routes (`filters`), `model` already removed from every list and map. */
export interface ModelFilters {
  /** Top-level keys deleted from the body, sorted, without repeats. */
  readonly stripParams: readonly string[];
  /** Merged into the body after stripping; undefined when there is nothing to set. */
  readonly setParams: Readonly<Record<string, unknown>> | undefined;
  /** Requested id (the model's own id or one of its aliases) -> params merged after setParams. */
  readonly setParamsByID: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

/** Upstream connection timeouts; 0 = none. */
export interface ModelTimeouts {
  /** Opening a new TCP connection to the upstream. */
  readonly connectMs: number;
  /** From sending the request to the upstream's response headers. */
  readonly responseHeaderMs: number;
}

/** `capabilities`, shown in /v1/models; undefined on the model when the block is absent or all empty. */
export interface ModelCapabilities {
  readonly in: readonly Modality[];
  readonly out: readonly Modality[];
  readonly tools: boolean;
  readonly reranker: boolean;
  /** Context length in tokens; 0 = unknown. */
  readonly context: number;
}

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
  readonly filters: ModelFilters;
  readonly timeouts: ModelTimeouts;
  readonly capabilities: ModelCapabilities | undefined;
  /** Websocket upgrades never start this model (modelswap does not proxy websockets yet, so always true in effect). */
  readonly ignoreWebsockets: boolean;
  /** Streaming chat requests that must wait for a load get its progress as reasoning_content first. */
  readonly sendLoadingState: boolean;
  /**
   * Why this model can never start (a config llama-swap's examples contain,
   * accepted with a warning); every request for it fails with this message
   * and it is never preloaded. undefined for a model that can start.
   */
  readonly startError: string | undefined;
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

/** The activity history and request captures. */
export interface ActivityConfig {
  /** Rows kept when the history is in memory (no storePath). */
  readonly maxInMemory: number;
  /** Capture cache size; 0 = no captures. */
  readonly captureBytes: number;
  /** SQLite file of the history; undefined = in memory. */
  readonly storePath: string | undefined;
  /** With storePath: rows older than this are deleted; 0 = kept. */
  readonly retentionMs: number;
  /** With storePath: rows kept at most; 0 = no limit. */
  readonly maxRows: number;
  /** Headers (lower case, in order) whose first value present is a request's session id. */
  readonly sessionHeaders: readonly string[];
}

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
  /** GET /metrics needs no API key. */
  readonly publicMetrics: boolean;
  /** Model ids (aliases resolved) to load at start-up, in order. */
  readonly preload: readonly string[];
  /** Request bodies larger than this get 413. */
  readonly maxBodyBytes: number;
  readonly logTimeFormat: LogTimeFormat;
  /** `/upstream/<model>/<path>` requests whose path matches one of these never start the model (409 unless ready). */
  readonly upstreamIgnorePaths: readonly RegExp[];
  readonly activity: ActivityConfig;
  /** Accepted settings that have no effect (yet), each with its path and line: logged at start-up. */
  readonly warnings: readonly ConfigIssue[];
}
