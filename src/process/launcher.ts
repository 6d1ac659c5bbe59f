/**
 * How one model's server processes are spawned and accounted for: every
 * spawned group is recorded (the exit-time kill list and the state file)
 * until every member is gone.
 *
 * A start takes the process-wide spare launch wrapper when one waits
 * (./spare-pool.ts), else spawns. `prepare()`, the hint a swap gives while
 * it evicts others, checks the model's port ahead of the start.
 *
 * `${DEVICE}` in the cmd and env becomes the model's device (./device-macro.ts),
 * read when the server is spawned (or its spare released).
 */
import type { Logger } from 'pino';
import type { ModelConfig } from '../config/types.ts';
import { DEVICE_MACRO, withDevice } from './device-macro.ts';
import { registerGroup, unregisterGroup } from './kill-group.ts';
import { acceptsConnections, portToCheck } from './port-check.ts';
import type { SparePool } from './spare-pool.ts';
import { type Child, spawnChild } from './spawn.ts';
import type { GroupStateFile } from './state-file.ts';

/** A spawned child and the device its `${DEVICE}` was replaced with. */
export interface Spawned {
  readonly child: Child;
  readonly device: string | undefined;
}

export class Launcher {
  readonly #config: ModelConfig;
  readonly #log: Logger;
  readonly #groups: Pick<GroupStateFile, 'add' | 'remove'> | undefined;
  readonly #device: () => string | undefined;
  readonly #spares: SparePool | undefined;
  /**
   * The port check run while the evicted servers stopped: true when the port
   * was free (or is not checked). Free then means free at launch, since a
   * stopping server binds no port anew; taken then (a server being evicted
   * shares the port) is checked again at launch.
   */
  #portFree: Promise<boolean> | undefined;

  /** `device`: where the model was placed, asked at each spawn (undefined: `${DEVICE}` is empty). */
  constructor(config: ModelConfig, log: Logger, groups: Pick<GroupStateFile, 'add' | 'remove'> | undefined, device: () => string | undefined = () => undefined, spares?: SparePool) {
    this.#config = config;
    this.#log = log;
    this.#groups = groups;
    this.#device = device;
    this.#spares = spares;
  }

  /** Check the port now, unless a check is pending already. */
  prepare(): void {
    if (this.#portFree !== undefined) return;
    const target = portToCheck(this.#config);
    this.#portFree = target === undefined ? Promise.resolve(true) : acceptsConnections(target).then((accepted) => !accepted);
  }

  /** The early port check, if `prepare()` ran one since the last spawn. */
  earlyPortFree(): Promise<boolean> | undefined {
    return this.#portFree;
  }

  /** Forget the early port check (the swap it was for failed or was cancelled). */
  discard(): void {
    this.#portFree = undefined;
  }

  /** Spawn this model's cmd, `${DEVICE}` replaced, through the waiting spare if there is one, and record its group. */
  spawn(onOutput: (text: string) => void): Spawned & { readonly prepared: boolean } {
    this.#portFree = undefined;
    const device = this.#device();
    const { cmd, env } = this.#config;
    if (device === undefined && [...cmd, ...Object.values(env)].some((s) => s.includes(DEVICE_MACRO))) {
      this.#log.warn('the model was placed on no device: ${DEVICE} is empty');
    }
    const run = withDevice(cmd, env, device);
    const spare = this.#spares?.take(run.argv, run.env, onOutput);
    const child = spare ?? spawnChild(run.argv, { env: run.env, onOutput });
    if (child.pid !== undefined) {
      registerGroup(child.pid);
      this.#groups?.add(this.#config.id, child.pid, run.argv);
    }
    return { child, device, prepared: spare !== undefined };
  }

  /** Every member of `child`'s group is gone: undo its records and the watchdog drops it (./watchdog.ts). */
  groupEnded(child: Child): void {
    forgetGroup(child, this.#groups);
  }
}

/** Every member of `child`'s group is gone: unregister it, have the watchdog drop it (./watchdog.ts), drop it from the state file. */
export function forgetGroup(child: Child, groups: Pick<GroupStateFile, 'remove'> | undefined): void {
  const pgid = child.pid;
  if (pgid === undefined) return; // never spawned: nothing recorded
  unregisterGroup(pgid);
  child.groupGone();
  groups?.remove(pgid);
}
