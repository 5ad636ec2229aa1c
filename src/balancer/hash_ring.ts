import { hash32 } from "./hash.ts";
import type { Strategy, Weighted } from "./types.ts";

/**
 * `consistent-hash`: a ring with `virtualNodes × weight` points per item. A key goes to the
 * first point clockwise from its hash whose item is eligible, so adding or removing an item
 * moves only the keys next to its points. The ring is built once per pool.
 */
export function consistentHash<T extends Weighted>(
  pool: readonly T[],
  options: {
    readonly hashAlgorithm?: "md5" | "sha1" | "sha256" | "sha512";
    readonly virtualNodes?: number;
  },
): Strategy<T> {
  const algorithm = options.hashAlgorithm ?? "md5";
  const virtualNodes = options.virtualNodes ?? 150;
  const points: { hash: number; index: number }[] = [];
  pool.forEach((item, index) => {
    for (let i = 0; i < virtualNodes * item.weight; i++) {
      points.push({ hash: hash32(algorithm, `${item.id}#${i}`), index });
    }
  });
  points.sort((a, b) => a.hash - b.hash || a.index - b.index);
  const hashes = Uint32Array.from(points, (point) => point.hash);
  const owners = Uint32Array.from(points, (point) => point.index);

  return {
    pick(context, eligible) {
      if (hashes.length === 0) return undefined;
      const key = hash32(algorithm, context.hashKey ?? context.clientIp);
      const start = firstAtOrAfter(hashes, key);
      const seen = new Set<number>();
      for (let step = 0; step < hashes.length && seen.size < pool.length; step++) {
        const index = owners[(start + step) % hashes.length]!;
        if (seen.has(index)) continue;
        seen.add(index);
        const item = pool[index]!;
        if (eligible(item)) return item;
      }
      return undefined;
    },
  };
}

function firstAtOrAfter(sorted: Uint32Array, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low === sorted.length ? 0 : low;
}
