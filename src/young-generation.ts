/**
 * modelswap's one V8 setting: a cap on the young generation.
 *
 * V8 sizes its semi-spaces (the young generation is two of them) from the
 * machine's memory: on a 24 GiB host Node 24 lets each grow to 64 MB. A burst
 * of new connections, whose objects survive their first scavenges, makes V8
 * grow them there, and the proxy's RSS then carries up to ~100 MB of mostly
 * empty young generation (bench/findings.md, "Proxy memory at 1,000
 * streams"). 16 MB semi-spaces keep that bounded at no throughput cost that
 * the benchmark can see.
 *
 * The flag only takes effect at V8's start (v8.setFlagsFromString at run time
 * changes nothing), so ./cli.ts re-executes Node with it, in place
 * (process.execve: same pid, same stdio, same signals' target), unless the
 * user set it already on the command line or in NODE_OPTIONS.
 */
export const SEMI_SPACE_MB = 16;

const FLAG = '--max-semi-space-size';

/** Node flags to add to `execArgv` and NODE_OPTIONS; empty when the user chose a size. */
export function youngGenerationArgs(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((arg) => {
    const name = arg.split('=', 1)[0]!.replaceAll('_', '-'); // V8 reads --max_semi_space_size too
    return name === FLAG;
  });
  return given ? [] : [`${FLAG}=${SEMI_SPACE_MB}`];
}
