/** A value from a token, quoted and cut short, for a refusal reason. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}
