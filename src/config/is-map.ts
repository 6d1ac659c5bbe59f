/** A YAML/JSON mapping: an object that is neither null nor an array. */
export function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
