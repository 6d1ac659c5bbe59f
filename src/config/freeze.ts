/**
 * Deep freeze for the loaded Config: plain objects and arrays are frozen
 * recursively; Maps and Sets are frozen as objects (their entries can still
 * be changed through `set`, which the `ReadonlyMap` types forbid) and their
 * values are frozen recursively.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (value instanceof Map) {
    for (const v of value.values()) deepFreeze(v);
  } else if (value instanceof Set) {
    for (const v of value) deepFreeze(v);
  } else {
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
