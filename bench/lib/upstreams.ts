/**
 * What the benchmark runs as the upstream: the bundled fake llama-server
 * (always) or a real llama.cpp `llama-server` binary (scenario 6, when
 * LLAMA_SERVER is set). Both get the same flags from every scenario.
 */
import { fakeArgv } from './processes.ts';

export interface ServerShape {
  /** Fake only: how long /health answers 503 after the port is bound. */
  readonly loadMs?: number;
  /** Fake only: delay per generated token. */
  readonly tokenMs?: number;
  /** Most tokens one answer may have (the request's max_tokens picks fewer). */
  readonly tokens?: number;
  /** Fake only: stamp every SSE event with its send time. */
  readonly stamp?: boolean;
  /** Fake only: its V8 helper threads under SCHED_IDLE (src/helper-threads.ts). */
  readonly idleHelpers?: boolean;
}

export interface UpstreamKind {
  readonly name: 'fake' | 'llama-server';
  argv(port: number, id: string, shape: ServerShape): string[];
  /** Added to every request body. */
  readonly bodyExtra: Readonly<Record<string, unknown>>;
  /** Whether SSE events carry `sent_ms` (per-chunk delay is measurable). */
  readonly stamps: boolean;
}

export const fake: UpstreamKind = {
  name: 'fake',
  argv(port, id, s) {
    const flags = [
      ...(s.loadMs === undefined ? [] : ['--load-ms', String(s.loadMs)]),
      ...(s.tokenMs === undefined ? [] : ['--token-ms', String(s.tokenMs)]),
      ...(s.tokens === undefined ? [] : ['--tokens', String(s.tokens)]),
      ...(s.stamp === true ? ['--stamp-chunks'] : []),
      ...(s.idleHelpers === true ? ['--idle-helpers'] : []),
    ];
    return fakeArgv(port, id, flags);
  },
  bodyExtra: {},
  stamps: true,
};

/** Context size for every real server (and the router's instances): room for a 500-token stream. */
export const LLAMA_CTX = 1024;

export function llamaServer(bin: string, gguf: string): UpstreamKind {
  return {
    name: 'llama-server',
    argv: (port, id) => [bin, '--host', '127.0.0.1', '--port', String(port), '-m', gguf, '--alias', id, '-c', String(LLAMA_CTX)],
    // A random-weight model may emit end-of-text at any time: make max_tokens the exact length.
    bodyExtra: { ignore_eos: true },
    stamps: false,
  };
}
