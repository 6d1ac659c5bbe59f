/** What the router is built from (composition happens in src/main.ts; tests pass fakes). */
import type { Logger } from 'pino';
import type { Config, ModelConfig } from '../config/types.ts';
import type { ProcessStatus, StatusDetail, Upstream } from '../process/types.ts';
import type { Effects, Scheduler } from '../scheduler/types.ts';

export interface RouterDeps {
  readonly config: Config;
  readonly logger: Logger;
  /**
   * Builds the process for a model definition (the real one is
   * UpstreamProcess), which reports every status change to `onStatus`.
   */
  readonly createUpstream: (model: ModelConfig, onStatus: (status: ProcessStatus, detail: StatusDetail) => void) => Upstream;
  /** Builds the scheduler around the router's Effects for a config (again on every reload). */
  readonly createScheduler: (effects: Effects, config: Config) => Scheduler;
  /** A model's current process became ready (on the run loop; must not throw or block). */
  readonly onReady?: (model: string, pid: number | undefined) => void;
}
