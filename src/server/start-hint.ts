/** What the start-up line tells a person to look at and to try first. */
export function startHint(url: string): string {
  return `web UI: ${url}/ui/ — try: curl ${url}/v1/models`;
}
