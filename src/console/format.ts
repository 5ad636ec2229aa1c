/**
 * How the console writes numbers and times: short, the same in every view, and a dash for what
 * is not known.
 * @module
 */

/** What the console shows for a value that is not known. */
export const UNKNOWN = "—";

/** A clock time as `2026-12-05 09:41:03 UTC`. */
export function formatTime(at: string | number): string {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return String(at);
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** A duration in ms, rounded: `412 ms`, `3.2 s`. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return UNKNOWN;
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(1)} s`;
}

/** A share from 0 to 1 as a whole percentage. */
export function formatShare(share: number | undefined): string {
  return share === undefined ? UNKNOWN : `${Math.round(share * 100)}%`;
}

/** A count with thousands separated: `12,800`. */
export function formatCount(count: number): string {
  return count.toLocaleString("en-US");
}

/** US dollars, to the cent, or to four places below a cent. */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0";
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}
