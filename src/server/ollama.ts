/**
 * Ollama-style model lists, for tools that discover models the Ollama way:
 * `GET /api/tags` (every model, like `ollama list`) and `GET /api/ps` (the
 * loaded ones, like `ollama ps`). The shapes are Ollama's; fields modelswap
 * cannot know (file size, digest, VRAM use, quantization, context length)
 * are zeros and empty strings, never invented values.
 */
import type { Config } from '../config/types.ts';
import type { RunningInfo } from '../router/router.ts';
import { listModels } from './models.ts';

export interface OllamaDetails {
  readonly parent_model: string;
  readonly format: string;
  readonly family: string;
  readonly families: readonly string[];
  readonly parameter_size: string;
  readonly quantization_level: string;
}

export interface OllamaTag {
  readonly name: string;
  readonly model: string;
  readonly modified_at: string;
  readonly size: number;
  readonly digest: string;
  readonly details: OllamaDetails;
}

export interface OllamaLoaded {
  readonly name: string;
  readonly model: string;
  readonly size: number;
  readonly digest: string;
  readonly details: OllamaDetails;
  readonly expires_at: string;
  readonly size_vram: number;
  readonly context_length: number;
}

const DETAILS: OllamaDetails = { parent_model: '', format: '', family: '', families: [], parameter_size: '', quantization_level: '' };

/** Reported for a model with no TTL (never unloaded for idleness): a date no client reaches. */
export const NEVER_EXPIRES = '9999-12-31T23:59:59.000Z';

/** `GET /api/tags`: the models (and aliases) `/v1/models` lists, in the same order. */
export function ollamaTags(config: Config, status: (model: string) => string, created: number): { models: OllamaTag[] } {
  const modifiedAt = new Date(created * 1000).toISOString();
  const models = listModels(config, status, created).data.map((m) => ({
    name: m.id, model: m.id, modified_at: modifiedAt, size: 0, digest: '', details: DETAILS,
  }));
  return { models };
}

/**
 * `GET /api/ps`: every model whose server is not stopped (starting, ready or
 * stopping; `/v1/models` calls these "loaded" too). `expires_at`:
 * 0. the router's countdown runs (ready and idle) -> now + what is left of it
 *    (`running` must be read as of the same `now`);
 * 1. no TTL -> NEVER_EXPIRES;
 * 2. last use known (the router's: a grant, a request done, a load) -> that
 *    + TTL, or now if requests are still in flight or queued past it (the
 *    countdown waits for them);
 * 3. otherwise now + TTL, the latest it can be.
 */
export function ollamaPs(running: readonly RunningInfo[], lastUsed: (model: string) => number | undefined, now: number): { models: OllamaLoaded[] } {
  const models = running
    .filter((r) => r.state !== 'stopped' && r.state !== 'shutdown')
    .map((r) => ({
      name: r.model, model: r.model, size: 0, digest: '', details: DETAILS,
      expires_at: expiresAt(r, lastUsed(r.model), now), size_vram: 0, context_length: 0,
    }));
  return { models };
}

function expiresAt(r: RunningInfo, lastUse: number | undefined, now: number): string {
  if (r.ttlLeft !== null) return new Date(now + Math.round(r.ttlLeft * 1000)).toISOString(); // (0)
  if (r.ttl <= 0) return NEVER_EXPIRES; // (1)
  const ttlMs = r.ttl * 1000;
  if (lastUse === undefined) return new Date(now + ttlMs).toISOString(); // (3)
  const busy = r.inFlight > 0 || r.queued > 0;
  return new Date(Math.max(lastUse + ttlMs, busy ? now : 0)).toISOString(); // (2)
}
