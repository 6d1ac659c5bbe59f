/**
 * A model's `capabilities` as the /v1/models fields llama-swap renders, so
 * clients that read them (chat UIs, agents) see the same record:
 * - `architecture`: `input_modalities` / `output_modalities` when listed, and
 *   `modality` ("text+image->text") when both are;
 * - `capabilities`: `vision` (image in), `audio_transcriptions` (audio in,
 *   text out), `audio_speech` (text in, audio out), `image_generation` (text
 *   in, image out), `image_to_image` (image in and out), `function_calling`
 *   (tools), `reranker`;
 * - `supported_parameters: [tools, tool_choice]` with tools;
 * - `context_length` (and `meta.n_ctx`, added by the caller) when > 0.
 */
import type { ModelCapabilities } from '../config/types.ts';

export interface CapabilityFields {
  readonly architecture?: { readonly input_modalities?: readonly string[]; readonly output_modalities?: readonly string[]; readonly modality?: string };
  readonly capabilities?: Readonly<Record<string, true>>;
  readonly supported_parameters?: readonly string[];
  readonly context_length?: number;
}

/** Top-level record fields that the capabilities own: metadata keys of these names are dropped when capabilities are set. */
const CAPABILITY_KEYS: ReadonlySet<string> = new Set(['architecture', 'capabilities', 'supported_parameters', 'context_length']);

export function capabilityFields(caps: ModelCapabilities | undefined): CapabilityFields {
  if (caps === undefined) return {};
  const hasIn = caps.in.length > 0;
  const hasOut = caps.out.length > 0;
  const accepts = (m: string): boolean => caps.in.includes(m as never);
  const makes = (m: string): boolean => caps.out.includes(m as never);
  const flags: Record<string, true> = {};
  if (accepts('image')) flags['vision'] = true;
  if (accepts('audio') && makes('text')) flags['audio_transcriptions'] = true;
  if (accepts('text') && makes('audio')) flags['audio_speech'] = true;
  if (accepts('text') && makes('image')) flags['image_generation'] = true;
  if (accepts('image') && makes('image')) flags['image_to_image'] = true;
  if (caps.tools) flags['function_calling'] = true;
  if (caps.reranker) flags['reranker'] = true;
  return {
    ...(hasIn || hasOut
      ? {
          architecture: {
            ...(hasIn ? { input_modalities: caps.in } : {}),
            ...(hasOut ? { output_modalities: caps.out } : {}),
            ...(hasIn && hasOut ? { modality: `${caps.in.join('+')}->${caps.out.join('+')}` } : {}),
          },
        }
      : {}),
    ...(Object.keys(flags).length > 0 ? { capabilities: flags } : {}),
    ...(caps.tools ? { supported_parameters: ['tools', 'tool_choice'] } : {}),
    ...(caps.context > 0 ? { context_length: caps.context } : {}),
  };
}

/** `metadata` for meta.llamaswap: without the capability-owned keys when the model has capabilities. */
export function withoutCapabilityKeys(metadata: Readonly<Record<string, unknown>> | undefined, hasCapabilities: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) if (!hasCapabilities || !CAPABILITY_KEYS.has(k)) out[k] = v;
  return out;
}
