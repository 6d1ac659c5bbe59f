import type { Config } from '../config/types.ts';
import type { ProxyError } from '../errors.ts';
import type { ProcessStatus, StatusDetail, Upstream } from '../process/types.ts';
import type { RequestId, UnloadReason } from '../scheduler/types.ts';
import type { SwapTimings } from './feed-publisher.ts';
import type { RequestInfo } from './feed.ts';
import type { LeaseTimes, ServeOutcome } from './grants.ts';
import type { ModelDiff } from './reload.ts';

/** Everything the router's run loop handles. */
export type RouterEvent =
  | { readonly type: 'request'; readonly id: RequestId; readonly model: string; readonly preload: boolean }
  | { readonly type: 'cancel'; readonly id: RequestId }
  | { readonly type: 'swapDone'; readonly model: string; readonly error: ProxyError | undefined; readonly timings: SwapTimings }
  | { readonly type: 'serveDone'; readonly id: RequestId; readonly model: string; readonly times: LeaseTimes; readonly outcome: ServeOutcome | undefined; readonly request: RequestInfo | undefined }
  | { readonly type: 'status'; readonly model: string; readonly upstream: Upstream; readonly status: ProcessStatus; readonly detail: StatusDetail }
  | { readonly type: 'loadTick' }
  | { readonly type: 'schedulerTick' }
  | { readonly type: 'unload'; readonly models: readonly string[] | 'all'; readonly reason: UnloadReason }
  | { readonly type: 'retiredStopped'; readonly model: string; readonly upstream: Upstream }
  | { readonly type: 'idleCheck'; readonly model: string }
  | { readonly type: 'shutdown'; readonly error: ProxyError }
  | { readonly type: 'reload'; readonly config: Config; readonly done: (diff: ModelDiff) => void; readonly fail: (err: unknown) => void };
