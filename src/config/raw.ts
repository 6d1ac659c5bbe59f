/**
 * The config tree as the schema guarantees it after both validation passes:
 * defaults filled in, macros expanded, every typed value of its type. This is a
 * TypeScript view of schema/config.schema.json (which stays the source of
 * truth); normalize.ts reads it to build the public `Config`.
 */
import type { LogLevel, LogToStdout } from './types.ts';

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
}

export interface RawGroup {
  readonly members: readonly string[];
  readonly swap: boolean;
  readonly exclusive: boolean;
  readonly persistent: boolean;
}

export type RawGroups = Readonly<Record<string, RawGroup>>;

export interface RawRouting {
  readonly router?: { readonly use: 'group'; readonly settings?: { readonly groups?: RawGroups } };
  readonly scheduler?: {
    readonly use: 'serial' | 'fifo';
    readonly settings?: { readonly fifo?: { readonly priority?: Readonly<Record<string, number>> } };
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
  readonly maxBodyBytes: number;
  readonly hooks?: { readonly on_startup?: { readonly preload?: readonly string[] } };
  readonly routing?: RawRouting;
  readonly groups?: RawGroups;
  readonly models: Readonly<Record<string, RawModel>>;
}
