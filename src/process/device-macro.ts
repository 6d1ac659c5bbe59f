/**
 * `${DEVICE}`: the GPU the memory router placed a model on, for a model that
 * may go on several (`resources.device: [0, 1]`). Like `${PID}` in cmdStop,
 * it is known only when the process starts, so it is replaced in the argv
 * and the environment just before spawning (./launcher.ts), e.g.
 *   cmd: llama-server --port ${PORT} --device CUDA${DEVICE} -m model.gguf
 *   env: [CUDA_VISIBLE_DEVICES=${DEVICE}]
 * The config allows it only in a model the memory router places on a GPU
 * (../config/device-macro.ts), so a start with no device, which gets an
 * empty string (and a warning in the log), is not expected.
 */

export const DEVICE_MACRO = '${DEVICE}';

/** `argv` and `env` with every `${DEVICE}` replaced by `device` ('' when undefined). New arrays and objects; the inputs are not changed. */
export function withDevice(
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  device: string | undefined,
): { argv: string[]; env: Record<string, string> } {
  const value = device ?? '';
  const sub = (s: string): string => s.replaceAll(DEVICE_MACRO, value);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) out[k] = sub(v);
  return { argv: argv.map(sub), env: out };
}
