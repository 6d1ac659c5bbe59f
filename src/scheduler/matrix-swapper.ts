/**
 * The matrix eviction policy (`routing.router.use: matrix`), as llama-swap's
 * matrix router decides: keep the combination of models, among the configured
 * sets that contain the target, whose eviction costs least (matrix-solve.ts).
 * A model in no set runs alone.
 */
import type { MatrixConfig } from '../config/types.ts';
import { solveMatrix } from './matrix-solve.ts';
import type { MatrixDecision } from './matrix-solve.ts';
import type { Swapper } from './types.ts';

/** The decision for `target` given `running`, with the configured costs (1 for a model not listed). */
export function matrixDecision(matrix: MatrixConfig, target: string, running: readonly string[]): MatrixDecision {
  return solveMatrix(matrix.program, target, running, (m) => matrix.evictCosts.get(m) ?? 1);
}

/** `log`, when given, gets one line per real swap from `onSwapStart`: the set chosen, what it evicts and why. */
export function createMatrixSwapper(matrix: MatrixConfig, log?: (msg: string) => void): Swapper {
  return {
    evictionFor(target: string, running: readonly string[]): readonly string[] {
      return matrixDecision(matrix, target, running).evict;
    },
    onSwapStart(target: string, running: readonly string[], evict: readonly string[]): void {
      if (log === undefined) return;
      const d = matrixDecision(matrix, target, running);
      const where = d.set !== undefined
        ? `set=${d.set.name} dsl=${JSON.stringify(d.set.dsl)}`
        : running.includes(target) ? 'already running' : 'in no set, runs alone';
      log(`matrix: loading ${target} (${where}), evicting [${evict.join(', ')}], combination [${d.combination.join(', ')}], cost ${d.cost}`);
    },
  };
}
