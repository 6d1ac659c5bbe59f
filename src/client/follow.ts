/**
 * Shared by the commands that follow a stream until told to stop (`logs -f`,
 * `top`): Ctrl-C (SIGINT) or SIGTERM aborts the request and counts as a
 * clean stop; the stream ending by itself means modelswap went away.
 */
export interface Follow {
  readonly signal: AbortSignal;
  /** True once SIGINT/SIGTERM arrived or `stop()` was called. */
  readonly stopped: () => boolean;
  stop(): void;
  /** Remove the signal handlers. */
  dispose(): void;
}

export function follow(): Follow {
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    signal: ac.signal,
    stopped: () => ac.signal.aborted,
    stop,
    dispose: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

/** The message when the stream ended without being asked to. */
export const wentAway = (url: string): string => `the connection to modelswap at ${url} ended (it stopped or restarted)`;
