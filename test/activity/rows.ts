/** Activity rows for the unit tests. */
import type { ActivityRow } from '../../src/activity/row.ts';

export function row(id: number, over: Partial<ActivityRow> = {}): ActivityRow {
  return {
    id, ts: 1_700_000_000_000 + id * 1000, model: 'm', method: 'POST', path: '/v1/chat/completions', status: 200,
    contentType: 'application/json', clientAborted: false, error: null, queuedMs: 1, ttfbMs: 5, durationMs: 10 * id,
    causedSwap: false, evicted: [], loadMs: null, promptTokens: 3, completionTokens: id, cachedTokens: null,
    promptPerSecond: null, tokensPerSecond: 20 + id, sessionId: null, ...over,
  };
}
