/**
 * Scenario 1, request overhead: small non-streaming chat completions to one
 * fake llama-server, directly and through modelswap, in alternating order
 * (direct first in even rounds, proxy first in odd ones) so drift of the
 * shared machine hits both. Added latency = proxy − direct per round; the
 * reported value is the median over rounds. With `floor`, a bare node:http
 * forwarder (bench/lib/bare-proxy.ts) is measured in the same rounds at
 * concurrency 1 and 64, between the two: what Node's HTTP stack alone costs
 * here, for scale (no target is judged on it). With `recording`, a second
 * modelswap with `recording: false` (its own fake server) is measured in the
 * same rounds at concurrency 1 and 64, next to the first (order alternating
 * too): what the metrics, the activity history and the recent events cost
 * per request, as ratios of the two measured side by side.
 */
import type { ClosedJob, ClosedResult } from '../lib/client.ts';
import { freePortRange } from '../../test/helpers/ports.ts';
import { readProc, runInClient, startBareProxy, startLoadedProxy, type Proxy } from '../lib/processes.ts';
import { fake, type UpstreamKind } from '../lib/upstreams.ts';
import { median, round } from '../lib/stats.ts';

export interface OverheadOptions {
  readonly rounds: number;
  readonly warmupMs: number;
  /** Measured time per phase, by concurrency. */
  readonly phaseMs: { readonly c1: number; readonly c32: number; readonly c64: number };
  /** Also measure the bare node:http forwarder (concurrency 1 and 64). */
  readonly floor?: boolean;
  /** Also measure modelswap with recording off (concurrency 1 and 64). */
  readonly recording?: boolean;
}

export interface PhasePair {
  readonly concurrency: number;
  readonly direct: ClosedResult;
  readonly proxy: ClosedResult;
  /** Proxy CPU (user + system) during the proxy phase, per request, µs. */
  readonly proxyCpuUsPerReq: number;
  /** The bare node:http forwarder, same job (with `floor`, c1 and c64 only). */
  readonly bare?: ClosedResult;
  /** modelswap with `recording: false`, same job (with `recording`, c1 and c64 only), and its CPU per request. */
  readonly unrecorded?: { readonly res: ClosedResult; readonly cpuUsPerReq: number };
}

/** Recording on ÷ off, medians of the per-round ratios (off measured in the same rounds). */
export interface RecordingCost {
  readonly rounds: number;
  readonly c1: { readonly onP50Ms: number; readonly offP50Ms: number; readonly addedP50Ms: number; readonly cpuRatio: number };
  readonly c64: { readonly onReqPerSec: number; readonly offReqPerSec: number; readonly throughputRatio: number; readonly onCpuUsPerReq: number; readonly offCpuUsPerReq: number; readonly cpuRatio: number };
}

export interface OverheadResult {
  readonly rounds: readonly (readonly PhasePair[])[];
  readonly summary: {
    readonly c1: LatencyRow;
    readonly c32: LatencyRow;
    readonly c64: { readonly directReqPerSec: number; readonly proxyReqPerSec: number; readonly ratio: number; readonly proxyP99Ms: number; readonly directP99Ms: number };
    readonly proxyCpuUsPerReq: number;
    readonly rssMb: { readonly idle: number; readonly afterLoad: number; readonly peak: number };
    readonly errors: number;
    /** The bare node:http forwarder (with `floor`): added p50 at c1 and throughput ratio at c64, medians over rounds like modelswap's. */
    readonly floor?: { readonly c1AddedP50Ms: number; readonly c64Ratio: number };
    /** What recording costs (with `recording`); absent in results saved before it was measured. */
    readonly recording?: RecordingCost;
  };
}

export interface LatencyRow {
  readonly directP50Ms: number;
  readonly proxyP50Ms: number;
  readonly addedP50Ms: number;
  readonly directP99Ms: number;
  readonly proxyP99Ms: number;
  readonly addedP99Ms: number;
}

export const overheadBody = (kind: UpstreamKind): string => JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 8, ...kind.bodyExtra });

export async function overhead(o: OverheadOptions, log: (s: string) => void, kind: UpstreamKind = fake): Promise<OverheadResult> {
  const body = overheadBody(kind);
  const { proxy, direct: directOrigin } = await startLoadedProxy('bench', (port) => kind.argv(port, 'bench', { tokens: 8 }), JSON.parse(body) as Record<string, unknown>);
  const bare = o.floor === true ? await startBareProxy(await freePortRange(1), directOrigin).catch(async (err: unknown) => {
    await proxy.stop();
    throw err;
  }) : undefined;
  const off = o.recording === true
    ? (await startLoadedProxy('bench', (port) => kind.argv(port, 'bench', { tokens: 8 }), JSON.parse(body) as Record<string, unknown>, { recording: false }).catch(async (err: unknown) => {
      await bare?.stop();
      await proxy.stop();
      throw err;
    })).proxy
    : undefined;
  try {
    const idle = readProc(proxy.pid);
    const rounds: PhasePair[][] = [];
    for (let r = 0; r < o.rounds; r++) {
      const pairs: PhasePair[] = [];
      for (const c of [1, 32, 64] as const) {
        const job = (origin: string): ClosedJob => ({ kind: 'closed', origin, path: '/v1/chat/completions', body, concurrency: c, warmupMs: o.warmupMs, durationMs: o.phaseMs[`c${c}`] });
        const measured = async (p: Proxy): Promise<{ res: ClosedResult; cpuUs: number }> => {
          const before = readProc(p.pid).cpuMs;
          const res = await runInClient<ClosedResult>(job(p.origin));
          const cpuUs = ((readProc(p.pid).cpuMs - before) * 1000) / Math.max(1, res.totalRequests);
          return { res, cpuUs };
        };
        const runBare = bare !== undefined && c !== 32 ? (): Promise<ClosedResult> => runInClient<ClosedResult>(job(bare.origin)) : undefined;
        const runOff = off !== undefined && c !== 32 ? (): Promise<{ res: ClosedResult; cpuUs: number }> => measured(off) : undefined;
        let direct: ClosedResult;
        let viaProxy: { res: ClosedResult; cpuUs: number };
        let viaBare: ClosedResult | undefined;
        let viaOff: { res: ClosedResult; cpuUs: number } | undefined;
        if (r % 2 === 0) {
          direct = await runInClient<ClosedResult>(job(directOrigin));
          viaBare = await runBare?.();
          viaProxy = await measured(proxy);
          viaOff = await runOff?.();
        } else {
          viaOff = await runOff?.();
          viaProxy = await measured(proxy);
          viaBare = await runBare?.();
          direct = await runInClient<ClosedResult>(job(directOrigin));
        }
        pairs.push({
          concurrency: c, direct, proxy: viaProxy.res, proxyCpuUsPerReq: viaProxy.cpuUs,
          ...(viaBare === undefined ? {} : { bare: viaBare }),
          ...(viaOff === undefined ? {} : { unrecorded: { res: viaOff.res, cpuUsPerReq: viaOff.cpuUs } }),
        });
        const bareText = viaBare === undefined ? '' : ` | bare node:http p50 ${viaBare.latencyMs.p50.toFixed(3)} ms ${Math.round(viaBare.reqPerSec)} req/s`;
        const offText = viaOff === undefined ? '' : ` | recording off p50 ${viaOff.res.latencyMs.p50.toFixed(3)} ms ${Math.round(viaOff.res.reqPerSec)} req/s, ${Math.round(viaOff.cpuUs)} µs CPU/req`;
        log(`  round ${r + 1} c${c}: direct p50 ${direct.latencyMs.p50.toFixed(3)} ms ${Math.round(direct.reqPerSec)} req/s${bareText} | proxy p50 ${viaProxy.res.latencyMs.p50.toFixed(3)} ms ${Math.round(viaProxy.res.reqPerSec)} req/s, ${Math.round(viaProxy.cpuUs)} µs CPU/req${offText}`);
      }
      rounds.push(pairs);
    }
    const after = readProc(proxy.pid);
    const at = (c: number): PhasePair[] => rounds.map((pairs) => pairs.find((p) => p.concurrency === c)!);
    const latency = (c: number): LatencyRow => {
      const ps = at(c);
      return {
        directP50Ms: round(median(ps.map((p) => p.direct.latencyMs.p50))),
        proxyP50Ms: round(median(ps.map((p) => p.proxy.latencyMs.p50))),
        addedP50Ms: round(median(ps.map((p) => p.proxy.latencyMs.p50 - p.direct.latencyMs.p50))),
        directP99Ms: round(median(ps.map((p) => p.direct.latencyMs.p99))),
        proxyP99Ms: round(median(ps.map((p) => p.proxy.latencyMs.p99))),
        addedP99Ms: round(median(ps.map((p) => p.proxy.latencyMs.p99 - p.direct.latencyMs.p99))),
      };
    };
    const c64 = at(64);
    const all = rounds.flat();
    const withBare = (ps: PhasePair[]): (PhasePair & { bare: ClosedResult })[] => ps.filter((p): p is PhasePair & { bare: ClosedResult } => p.bare !== undefined);
    const [bare1, bare64] = [withBare(at(1)), withBare(c64)];
    const floor = bare1.length > 0 && bare64.length > 0
      ? { c1AddedP50Ms: round(median(bare1.map((p) => p.bare.latencyMs.p50 - p.direct.latencyMs.p50))), c64Ratio: round(median(bare64.map((p) => p.bare.reqPerSec / p.direct.reqPerSec))) }
      : undefined;
    const recording = recordingCost(at(1), c64);
    return {
      rounds,
      summary: {
        c1: latency(1),
        c32: latency(32),
        c64: {
          directReqPerSec: Math.round(median(c64.map((p) => p.direct.reqPerSec))),
          proxyReqPerSec: Math.round(median(c64.map((p) => p.proxy.reqPerSec))),
          ratio: round(median(c64.map((p) => p.proxy.reqPerSec / p.direct.reqPerSec))),
          directP99Ms: round(median(c64.map((p) => p.direct.latencyMs.p99))),
          proxyP99Ms: round(median(c64.map((p) => p.proxy.latencyMs.p99))),
        },
        proxyCpuUsPerReq: Math.round(median(c64.map((p) => p.proxyCpuUsPerReq))),
        rssMb: { idle: round(idle.rssMb, 1), afterLoad: round(after.rssMb, 1), peak: round(after.hwmMb, 1) },
        errors: all.reduce((n, p) => n + p.direct.errors + p.proxy.errors, 0),
        ...(floor === undefined ? {} : { floor }),
        ...(recording === undefined ? {} : { recording }),
      },
    };
  } finally {
    await off?.stop();
    await bare?.stop();
    await proxy.stop();
  }
}

type Unrecorded = PhasePair & { readonly unrecorded: NonNullable<PhasePair['unrecorded']> };

/** Recording on ÷ off from the rounds that measured both (none: undefined). */
function recordingCost(c1: readonly PhasePair[], c64: readonly PhasePair[]): RecordingCost | undefined {
  const both = (ps: readonly PhasePair[]): Unrecorded[] => ps.filter((p): p is Unrecorded => p.unrecorded !== undefined);
  const [a, b] = [both(c1), both(c64)];
  if (a.length === 0 || b.length === 0) return undefined;
  return {
    rounds: Math.min(a.length, b.length),
    c1: {
      onP50Ms: round(median(a.map((p) => p.proxy.latencyMs.p50)), 3),
      offP50Ms: round(median(a.map((p) => p.unrecorded.res.latencyMs.p50)), 3),
      addedP50Ms: round(median(a.map((p) => p.proxy.latencyMs.p50 - p.unrecorded.res.latencyMs.p50)), 3),
      cpuRatio: round(median(a.map((p) => p.proxyCpuUsPerReq / p.unrecorded.cpuUsPerReq)), 3),
    },
    c64: {
      onReqPerSec: Math.round(median(b.map((p) => p.proxy.reqPerSec))),
      offReqPerSec: Math.round(median(b.map((p) => p.unrecorded.res.reqPerSec))),
      throughputRatio: round(median(b.map((p) => p.proxy.reqPerSec / p.unrecorded.res.reqPerSec)), 3),
      onCpuUsPerReq: Math.round(median(b.map((p) => p.proxyCpuUsPerReq))),
      offCpuUsPerReq: Math.round(median(b.map((p) => p.unrecorded.cpuUsPerReq))),
      cpuRatio: round(median(b.map((p) => p.proxyCpuUsPerReq / p.unrecorded.cpuUsPerReq)), 3),
    },
  };
}
