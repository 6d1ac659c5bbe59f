/**
 * How one model's server processes are spawned and accounted for: every
 * spawned group is recorded (the exit-time kill list and the state file)
 * until every member is gone, and at most one *spare* waits.
 *
 * A spare is a launch wrapper spawned gated by `prepare()` while the model is
 * stopped (./launch.ts): the next `spawn()` releases it instead of forking.
 * It runs no server and is no process state; `discard()` SIGKILLs its group
 * and waits until it is gone, and a spare that died on its own is dropped at
 * `spawn()`. Linux only: a spare is checked through /proc before it is taken.
 *
 * `${DEVICE}` in the cmd and env becomes the model's device (./device-macro.ts),
 * read when the wrapper or server is spawned: a spare is prepared while the
 * swap that placed the model evicts others, so it already has the device.
 */
import type { Logger } from 'pino';
import type { ModelConfig } from '../config/types.ts';
import { DEVICE_MACRO, withDevice } from './device-macro.ts';
import { liveStatSync, registerGroup, unregisterGroup } from './kill-group.ts';
import { acceptsConnections, portToCheck } from './port-check.ts';
import { type Child, spawnChild } from './spawn.ts';
import type { GroupStateFile } from './state-file.ts';
import { terminateGroup } from './terminate.ts';

/** A spawned child and the device its `${DEVICE}` was replaced with. */
export interface Spawned {
  readonly child: Child;
  readonly device: string | undefined;
}

interface Spare extends Spawned {
  /** Where its output goes: nowhere until a run takes it (the wrapper itself prints nothing). */
  readonly output: { to: (text: string) => void };
  exited: boolean;
  /**
   * The port check run while the evicted servers stopped: true when the port
   * was free (or is not checked). Free then means free at launch, since a
   * stopping server binds no port anew; taken then (a server being evicted
   * shares the port) is checked again at launch.
   */
  readonly portFree: Promise<boolean>;
}

export class Launcher {
  readonly #config: ModelConfig;
  readonly #log: Logger;
  readonly #groups: Pick<GroupStateFile, 'add' | 'remove'> | undefined;
  readonly #device: () => string | undefined;
  #spare: Spare | undefined;

  /** `device`: where the model was placed, asked at each spawn (undefined: `${DEVICE}` is empty). */
  constructor(config: ModelConfig, log: Logger, groups: Pick<GroupStateFile, 'add' | 'remove'> | undefined, device: () => string | undefined = () => undefined) {
    this.#config = config;
    this.#log = log;
    this.#groups = groups;
    this.#device = device;
  }

  /** Spawn the wrapper now, gated, and check the port, unless a spare waits already. */
  prepare(): void {
    if (this.#spare !== undefined || process.platform !== 'linux') return;
    const output = { to: (_text: string): void => {} };
    const { child, device } = this.#spawnRegistered(true, (text) => output.to(text));
    if (child.pid === undefined) return; // command not found: spawn() reports it
    const target = portToCheck(this.#config);
    const portFree = target === undefined ? Promise.resolve(true) : acceptsConnections(target).then((accepted) => !accepted);
    const spare: Spare = { child, device, output, exited: false, portFree };
    void child.exited.then(() => (spare.exited = true));
    this.#spare = spare;
  }

  /** The early port check of the waiting spare, if there is one. */
  earlyPortFree(): Promise<boolean> | undefined {
    return this.#spare?.portFree;
  }

  /** The server's child: the spare released from its gate if it still waits, else a new spawn. */
  spawn(onOutput: (text: string) => void): Spawned & { readonly prepared: boolean } {
    const spare = this.#takeSpare();
    if (spare === undefined) return { ...this.#spawnRegistered(false, onOutput), prepared: false };
    spare.output.to = onOutput;
    spare.child.release(); // already registered
    return { child: spare.child, device: spare.device, prepared: true };
  }

  /** SIGKILL the spare's group (it holds nothing) and wait until it is gone. Never rejects. */
  async discard(): Promise<void> {
    const spare = this.#spare;
    if (spare === undefined) return;
    this.#spare = undefined;
    const gone = await terminateGroup({
      pgid: spare.child.pid!, leaderExited: spare.child.exited, graceMs: 0, polite: false,
      cmdStop: undefined, env: this.#config.env, log: this.#log, onOutput: () => {},
    }).catch(() => false);
    if (gone) this.groupEnded(spare.child);
  }

  /** Every member of `child`'s group is gone: undo its records and dismiss its watchdog (./launch.ts). */
  groupEnded(child: Child): void {
    const pgid = child.pid;
    if (pgid === undefined) return; // never spawned: nothing recorded
    unregisterGroup(pgid);
    child.groupGone();
    this.#groups?.remove(pgid);
  }

  /** Spawn this model's cmd, `${DEVICE}` replaced, and record its group. */
  #spawnRegistered(gated: boolean, onOutput: (text: string) => void): Spawned {
    const device = this.#device();
    const { cmd, env } = this.#config;
    if (device === undefined && [...cmd, ...Object.values(env)].some((s) => s.includes(DEVICE_MACRO))) {
      this.#log.warn('the model was placed on no device: ${DEVICE} is empty');
    }
    const run = withDevice(cmd, env, device);
    const child = spawnChild(run.argv, { env: run.env, gated, onOutput });
    if (child.pid !== undefined) {
      registerGroup(child.pid);
      this.#groups?.add(this.#config.id, child.pid, run.argv);
    }
    return { child, device };
  }

  /** The spare, if it still waits at its gate; one that died meanwhile is swept and dropped. */
  #takeSpare(): Spare | undefined {
    const spare = this.#spare;
    if (spare === undefined) return undefined;
    if (!spare.exited && liveStatSync(spare.child.pid!) !== undefined) {
      this.#spare = undefined;
      return spare;
    }
    void this.discard();
    return undefined;
  }
}
