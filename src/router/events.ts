import type { Config } from '../config/types.ts';
import type { ProxyError } from '../errors.ts';
import type { RequestId } from '../scheduler/types.ts';
import type { ModelDiff } from './reload.ts';

/** Everything the router's run loop handles. */
export type RouterEvent =
  | { readonly type: 'request'; readonly id: RequestId; readonly model: string }
  | { readonly type: 'cancel'; readonly id: RequestId }
  | { readonly type: 'swapDone'; readonly model: string; readonly error: ProxyError | undefined }
  | { readonly type: 'serveDone'; readonly id: RequestId; readonly model: string }
  | { readonly type: 'unload'; readonly models: readonly string[] | 'all'; readonly reason: 'unloaded' | 'ttl' }
  | { readonly type: 'idleCheck'; readonly model: string }
  | { readonly type: 'shutdown'; readonly error: ProxyError }
  | { readonly type: 'reload'; readonly config: Config; readonly done: (diff: ModelDiff) => void };
