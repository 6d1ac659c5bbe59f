#!/usr/bin/env node
/**
 * The `modelswap` executable: Node started with modelswap's young-generation
 * cap (./young-generation.ts), then the CLI itself (./cli-main.ts). Nothing
 * heavy is imported before the re-exec, so it costs one bare Node start.
 */
import { youngGenerationArgs } from './young-generation.ts';

const extra = youngGenerationArgs(process.execArgv, process.env.NODE_OPTIONS);
// process.execve: Node ≥ 22.15 / 23.11 on POSIX; elsewhere V8 keeps its own sizing. A refusal
// in JS (a worker thread, the permission model) is caught below; a failing execve(2) itself
// aborts the process on current Node. Preloads (--require, --import) run again after it.
if (extra.length > 0 && typeof process.execve === 'function') {
  try {
    process.execve(process.execPath, [process.execPath, ...extra, ...process.execArgv, ...process.argv.slice(1)], process.env);
  } catch (err) {
    process.stderr.write(`modelswap: could not restart Node with ${extra.join(' ')} (${(err as Error).message}); going on with V8's own young-generation size\n`);
  }
}
await import('./cli-main.ts');
