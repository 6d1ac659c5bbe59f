/**
 * The normalized, validated, deep-frozen configuration every other layer reads.
 * Produced only by `parseConfig`/`loadConfigFile` (src/config/load.ts) from YAML; tests may build
 * it directly. Durations are milliseconds here (seconds in YAML).
 */
import type { ConfigIssue } from './issues.ts';
import type { MatrixProgram } from './matrix-compile.ts';

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

/**
 * `simulate`: the model's load and stop times for `modelswap simulate`, which
 * replays a request trace on a virtual clock. The proxy never reads them.
 * Already resolved against the schema's defaults.
 */
export interface ModelSimulate {
  readonly loadMs: number;
  readonly stopMs: number;
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
  readonly simulate: ModelSimulate;
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

/** `peers.<id>`: another OpenAI-compatible server and the models it serves. */
export interface PeerConfig {
  readonly id: string;
  /** Base URL without trailing slash; the request's path is appended to it. */
  readonly proxy: string;
  /** Sent as `Authorization: Bearer` and `x-api-key`, replacing the client's; undefined = the client's headers pass. */
  readonly apiKey: string | undefined;
  /** The peer's own model ids, without repeats, in config order. */
  readonly models: readonly string[];
  /** stripParams and setParams (setParamsByID is always empty for a peer). */
  readonly filters: ModelFilters;
  /** Defaults: connect 30 s, responseHeader 60 s. */
  readonly timeouts: ModelTimeouts;
}

/** A name that reaches a peer model: `<peer>/<model>`, or the bare model id when one peer alone has it. */
export interface PeerRoute {
  readonly peer: string;
  /** The peer's own id for the model (what is sent to it). */
  readonly model: string;
  /** `<peer>/<model>`. */
  readonly fqn: string;
}

/** `profiles.<name>`: requested id -> target, applied while the profile is active. */
export interface ProfileConfig {
  readonly id: string;
  readonly description: string;
  /** Requested id -> target id (a model, alias, peer model or selector); null disables the id. */
  readonly pins: ReadonlyMap<string, string | null>;
}

export type SelectorStrategy = 'warm' | 'pin' | 'spillover';

/** `selectors.<id>`: a virtual model id that picks one of its targets per request. */
export interface SelectorConfig {
  readonly id: string;
  readonly strategy: SelectorStrategy;
  /** As written: model ids, aliases or peer model names, in order of preference. */
  readonly targets: readonly string[];
  /** Reservations per active target before `spillover` starts the next target; 1 by default. */
  readonly spillover: number;
  readonly name: string | undefined;
  readonly description: string | undefined;
  readonly unlisted: boolean;
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
}
/** What a model needs to run (`models.<id>.resources`), in bytes. */
export interface ResourceNeed {
  /** GPU memory, on the one device the model is placed on; 0 = none. */
  readonly vram: number;
  /** Devices it may be placed on (any one), in preference order; undefined = any device of the budget. */
  readonly devices: readonly string[] | undefined;
  /** System memory; 0 = none. */
  readonly ram: number;
}

/** `routing.router.settings.memory` with the models' declarations (`use: memory`). */
export interface MemoryConfig {
  /** Device id -> bytes, or `auto`: read at start-up (nvidia-smi, rocm-smi). */
  readonly devices: ReadonlyMap<string, number> | 'auto';
  /** Bytes of system memory models may use together, or `auto`: the machine's total. */
  readonly ram: number | 'auto';
  /** Model id -> what it declares; a model not listed needs nothing. */
  readonly needs: ReadonlyMap<string, ResourceNeed>;
  /** Models never evicted to make room for another (they stop on unload or TTL only). */
  readonly persistent: readonly string[];
}

/** llama-swap's matrix router: which models may run together, and what evicting each costs. */
export interface MatrixConfig {
  readonly program: MatrixProgram;
  /** Model id -> eviction cost (a positive integer); unlisted models cost 1. */
  readonly evictCosts: ReadonlyMap<string, number>;
}

/**
 * The eviction policy (`routing.router`): `group` reads `Config.groups`,
 * `matrix` the compiled sets, `memory` the models' declared resources and the
 * budgets (groups are then not used).
 */
export type RouterConfig =
  | { readonly use: 'group' }
  | { readonly use: 'matrix'; readonly matrix: MatrixConfig }
  | { readonly use: 'memory'; readonly memory: MemoryConfig };

export type SchedulerConfig =
  | { readonly use: 'serial' }
  | { readonly use: 'fifo'; readonly priority: ReadonlyMap<string, number> }
  | {
    readonly use: 'batch';
    readonly priority: ReadonlyMap<string, number>;
    /** How long a request may wait before it forces a swap; undefined: twice its model's load time. */
    readonly maxWaitMs: number | undefined;
  };

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
  readonly router: RouterConfig;
  readonly scheduler: SchedulerConfig;
  readonly healthCheckTimeoutMs: number;
  readonly logLevel: LogLevel;
  readonly logToStdout: LogToStdout;
  readonly apiKeys: readonly string[];
  readonly includeAliasesInList: boolean;
  /** GET /metrics needs no API key. */
  readonly publicMetrics: boolean;
  /** Record requests and swaps (metrics counters, activity history, recent events); false: none kept. */
  readonly recording: boolean;
  /** Model ids (aliases resolved) to load at start-up, in order. */
  readonly preload: readonly string[];
  /** Request bodies larger than this get 413. */
  readonly maxBodyBytes: number;
  readonly logTimeFormat: LogTimeFormat;
  /** `/upstream/<model>/<path>` requests whose path matches one of these never start the model (409 unless ready). */
  readonly upstreamIgnorePaths: readonly RegExp[];
  /** Peer id -> peer, in sorted id order. */
  readonly peers: ReadonlyMap<string, PeerConfig>;
  /** Every name that reaches a peer model (fully qualified names, and bare ids only one peer has) -> route. */
  readonly peerModels: ReadonlyMap<string, PeerRoute>;
  /** Profile name -> profile, in sorted order. None is active at start-up or after a reload. */
  readonly profiles: ReadonlyMap<string, ProfileConfig>;
  /** Selector id -> selector, in sorted id order. */
  readonly selectors: ReadonlyMap<string, SelectorConfig>;
  readonly activity: ActivityConfig;
  /** Accepted settings that have no effect (yet), each with its path and line: logged at start-up. */
  readonly warnings: readonly ConfigIssue[];
}
