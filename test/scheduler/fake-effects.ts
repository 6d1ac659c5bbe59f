/**
 * A recording, in-memory `Effects` for scheduler tests (like llama-swap's
 * `fakeEffects` in fifo_test.go). No timers, no sockets: tests set model
 * statuses, call the scheduler's `on*` methods directly, and assert on what
 * was recorded.
 */
import type { ProxyError } from '../../src/errors.ts';
import type {
  Effects, ModelStatus, RequestId, SchedRequest, Swapper, UnloadReason,
} from '../../src/scheduler/types.ts';

export interface StartRec {
  readonly model: string;
  readonly evict: readonly string[];
}
export interface ErrorRec {
  readonly id: RequestId;
  readonly model: string;
  readonly err: ProxyError;
}
export interface StopRec {
  readonly models: readonly string[];
  readonly reason: UnloadReason | 'shutdown';
}

export class FakeEffects implements Effects {
  /** Model statuses; a model not listed is 'stopped'. */
  readonly statuses = new Map<string, ModelStatus>();
  /** grantServe's answer per request id (default true). */
  readonly grantServeReturns = new Map<RequestId, boolean>();
  readonly starts: StartRec[] = [];
  /** Ids handed to a caller (grantServe returned true), in order. */
  readonly grants: RequestId[] = [];
  /** Ids whose grantServe returned false. */
  readonly refused: RequestId[] = [];
  readonly errors: ErrorRec[] = [];
  readonly stops: StopRec[] = [];
  /** Models whose swap was cancelled (cancelSwap), in order. */
  readonly cancels: string[] = [];
  /** Every request id the test made, with its model. */
  readonly models = new Map<RequestId, string>();
  #nextId = 1;

  /** A fresh request for `model` (remembered so outcomes can be counted per model). */
  request(model: string): SchedRequest {
    const id = this.#nextId++;
    this.models.set(id, model);
    return { id, model };
  }

  setStatus(status: ModelStatus, ...models: string[]): void {
    for (const m of models) this.statuses.set(m, status);
  }

  cancelSwap(model: string): void {
    this.cancels.push(model);
  }

  modelStatus(model: string): ModelStatus {
    return this.statuses.get(model) ?? 'stopped';
  }

  runningModels(): readonly string[] {
    return [...this.statuses].filter(([, s]) => s !== 'stopped').map(([m]) => m).sort();
  }

  startSwap(model: string, evict: readonly string[]): void {
    this.starts.push({ model, evict: [...evict] });
  }

  grantServe(id: RequestId): boolean {
    const ok = this.grantServeReturns.get(id) ?? true;
    (ok ? this.grants : this.refused).push(id);
    return ok;
  }

  grantError(id: RequestId, err: ProxyError): void {
    this.errors.push({ id, model: this.models.get(id) ?? '?', err });
  }

  stopProcesses(models: readonly string[], reason: UnloadReason | 'shutdown'): void {
    this.stops.push({ models: [...models], reason });
  }

  /** Grants received: for one request id (0 or 1), or for every request of a model. */
  served(idOrModel: RequestId | string): number {
    return this.grants.filter((id) => matches(this.models, id, idOrModel)).length;
  }

  /** Error grants: for one request id, or for every request of a model. */
  errored(idOrModel: RequestId | string): number {
    return this.errors.filter((e) => matches(this.models, e.id, idOrModel)).length;
  }

  /** The error code a request was failed with, if any. */
  errorCode(id: RequestId): string | undefined {
    return this.errors.find((e) => e.id === id)?.err.code;
  }

  startsFor(model: string): number {
    return this.starts.filter((s) => s.model === model).length;
  }

  /** The most recent swap started for `model`. */
  lastStart(model: string): StartRec | undefined {
    return this.starts.findLast((s) => s.model === model);
  }
}

function matches(models: ReadonlyMap<RequestId, string>, id: RequestId, key: RequestId | string): boolean {
  return typeof key === 'number' ? id === key : models.get(id) === key;
}

/**
 * A table-driven Swapper: `target` evicts the listed models that are running
 * (like llama-swap's `stubPlanner`, but filtered by `running` so the tests also
 * check what the scheduler counts as running). Records onSwapStart calls.
 */
export function stubSwapper(
  table: Readonly<Record<string, readonly string[]>> = {},
  onStart: StartRec[] = [],
): Swapper {
  return {
    evictionFor: (target, running) => (table[target] ?? []).filter((m) => m !== target && running.includes(m)),
    onSwapStart: (target, _running, evict) => {
      onStart.push({ model: target, evict: [...evict] });
    },
  };
}
