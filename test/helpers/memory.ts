/**
 * Memory readings for leak checks in a test process. `fullGc()` enables
 * `gc` at run time (as jest-leak-detector does), so no --expose-gc flag is
 * needed on the command line.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/** Two full, synchronous garbage collections (the second catches what finalizers freed). */
export function fullGc(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  gc();
}

export interface MemoryReading {
  readonly rss: number;
  /** Live JS heap after a full GC. */
  readonly heapUsed: number;
  /** Reserved young-generation size: it grows with the allocation rate up to a fixed maximum and shows up in RSS. */
  readonly newSpace: number;
}

/** Full GC, then read. */
export function readMemory(): MemoryReading {
  fullGc();
  const { rss, heapUsed } = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  return { rss, heapUsed, newSpace };
}
