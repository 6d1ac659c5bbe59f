/**
 * The config tree as the schema guarantees it after both validation passes:
 * defaults filled in, macros expanded, every typed value of its type. This is a
 * TypeScript view of schema/config.schema.json (which stays the source of
 * truth); normalize.ts reads it to build the public `Config`.
 */
import type { LogLevel, LogTimeFormat, LogToStdout, Modality } from './types.ts';

export type MacroValue = string | number | boolean;

export interface RawModel {
  readonly cmd: string;
  readonly cmdStop?: string;
  readonly proxy: string;
  readonly checkEndpoint: string;
  readonly env?: readonly string[];
  readonly ttl: number;
  readonly unloadTimeout: number;
  readonly aliases?: readonly string[];
  readonly useModelName?: string;
  readonly unlisted: boolean;
  readonly name?: string;
  readonly description?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly concurrencyLimit: number;
  readonly macros?: Readonly<Record<string, MacroValue>>;
  readonly filters?: RawFilters;
  readonly timeouts?: Readonly<Partial<Record<'connect' | 'responseHeader' | 'keepalive' | 'tlsHandshake' | 'expectContinue' | 'idleConn', number>>>;
  readonly compat?: { readonly ignoreWebsockets?: boolean };
  readonly capabilities?: {
    readonly in?: readonly Modality[];
    readonly out?: readonly Modality[];
    readonly tools?: boolean;
    readonly reranker?: boolean;
    readonly context?: number;
  };
  readonly sendLoadingState?: boolean;
  readonly simulate?: { readonly loadMs?: number; readonly stopMs?: number };
  readonly resources?: RawResources;
}

/** A size: bytes, or a string such as `7.5GiB`. */
export type RawSize = number | string;

export interface RawResources {
  readonly vram?: RawSize;
  readonly device?: string | number | readonly (string | number)[];
  readonly ram?: RawSize;
}

export interface RawMemory {
  readonly devices?: 'auto' | Readonly<Record<string, RawSize>>;
  readonly ram?: 'auto' | RawSize;
  readonly persistent?: readonly string[];
}

export interface RawFilters {
  readonly stripParams?: string;
  readonly strip_params?: string;
  readonly setParams?: Readonly<Record<string, unknown>>;
  readonly setParamsByID?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface RawGroup {
  readonly members: readonly string[];
  readonly swap: boolean;
  readonly exclusive: boolean;
  readonly persistent: boolean;
}

export type RawGroups = Readonly<Record<string, RawGroup>>;

export interface RawRouting {
  readonly router?: {
    readonly use: 'group' | 'matrix' | 'memory';
    readonly settings?: { readonly groups?: RawGroups; readonly matrix?: unknown; readonly memory?: RawMemory };
  };
  readonly scheduler?: {
    readonly use: 'serial' | 'fifo' | 'batch';
    readonly settings?: {
      readonly fifo?: { readonly priority?: Readonly<Record<string, number>> };
      readonly batch?: { readonly priority?: Readonly<Record<string, number>>; readonly maxWait?: number };
    };
  };
}

export interface RawConfig {
  readonly healthCheckTimeout: number;
  readonly logLevel: LogLevel;
  readonly logToStdout: LogToStdout;
  readonly startPort: number;
  readonly globalTTL: number;
  readonly unloadTimeout: number;
  readonly macros?: Readonly<Record<string, MacroValue>>;
  readonly apiKeys?: readonly string[];
  readonly includeAliasesInList: boolean;
  readonly publicMetrics: boolean;
  readonly recording: boolean;
  readonly sendLoadingState?: boolean;
  readonly maxBodyBytes: number;
  readonly hooks?: { readonly on_startup?: { readonly preload?: readonly string[] } };
  readonly routing?: RawRouting;
  readonly groups?: RawGroups;
  readonly matrix?: unknown;
  readonly selectors?: Readonly<Record<string, RawSelector>>;
  readonly profiles?: Readonly<Record<string, RawProfile>>;
  readonly peers?: Readonly<Record<string, RawPeer>>;
  readonly logRequests?: boolean;
  readonly logTimeFormat: LogTimeFormat;
  readonly upstream?: { readonly ignorePaths: readonly string[] };
  readonly metricsMaxInMemory: number;
  readonly captureBuffer: number;
  readonly store?: { readonly path: string; readonly retention: string; readonly maxRows: number };
  readonly ui?: { readonly activity?: { readonly session_id?: readonly string[] } };
  readonly models: Readonly<Record<string, RawModel>>;
}

export interface RawPeer {
  readonly proxy: string;
  readonly apiKey?: string;
  readonly models: readonly string[];
  readonly filters?: RawFilters;
  readonly timeouts?: RawModel['timeouts'];
}

export interface RawProfile {
  readonly description?: string;
  readonly pins: Readonly<Record<string, string | null>>;
}

export interface RawSelector {
  readonly strategy: 'warm' | 'pin' | 'spillover';
  readonly targets: readonly string[];
  readonly settings?: { readonly spillover?: number };
  readonly name?: string;
  readonly description?: string;
  readonly unlisted?: boolean;
  readonly metadata?: Readonly<Record<string, unknown>>;
}
