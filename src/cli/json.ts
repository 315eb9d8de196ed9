/** JSON output: plain data, bigint refused (numbers beyond 2^53 are strings already), stable 2-space indent. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}
