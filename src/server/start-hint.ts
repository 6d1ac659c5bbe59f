/**
 * What the start-up line tells a person to try first. The one place to
 * change when modelswap gets a web UI: point at `${url}/ui` instead.
 */
export function startHint(url: string): string {
  return `try: curl ${url}/v1/models`;
}
