/** What an UpstreamProcess (./upstream-process.ts) is built with, besides its model's config. */
import type { Logger } from 'pino';
import type { LogRing } from '../log/ring.ts';
import type { SparePool } from './spare-pool.ts';
import type { GroupStateFile } from './state-file.ts';
import type { ExitInfo, ProcessStatus, StatusDetail } from './types.ts';

export interface UpstreamProcessOptions {
  readonly logger: Logger;
  /** This model's output history. */
  readonly logs: LogRing;
  /** Each chunk of child stdout/stderr, for the combined upstream log. Must not throw. */
  readonly onOutput?: (text: string) => void;
  /** Every time a child exits (or fails to spawn), with the reason. Must not throw. */
  readonly onExit?: (info: ExitInfo) => void;
  /** Every status change, with the run's pid and (once known) why it ended. Must not throw. */
  readonly onStatus?: (status: ProcessStatus, detail: StatusDetail) => void;
  /** Health poll period; default 50 ms. */
  readonly healthIntervalMs?: number;
  /** Where live groups are recorded for the next start's reaper; none by default. */
  readonly groups?: Pick<GroupStateFile, 'add' | 'remove'>;
  /**
   * Where the scheduler placed this model (the memory router's choice, made
   * when the swap starts), asked each time its server is spawned: `${DEVICE}`
   * in cmd and env becomes it (./device-macro.ts). Absent or undefined: ''.
   */
  readonly device?: () => string | undefined;
  /** The process-wide spare launch wrapper a start takes when one waits (./spare-pool.ts); none by default. */
  readonly spares?: SparePool;
}
