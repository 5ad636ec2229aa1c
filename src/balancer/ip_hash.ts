import { hash32 } from "./hash.ts";
import type { Strategy, Weighted } from "./types.ts";

/**
 * `ip-hash`: the client IP's hash picks a slot in a table where each item holds weight slots,
 * so one client always lands on the same item while the pool is unchanged. When that item is
 * not eligible the next slots are tried in order.
 */
export function ipHash<T extends Weighted>(
  pool: readonly T[],
  options: { readonly hashAlgorithm?: "md5" | "sha1" | "sha256" | "sha512" },
): Strategy<T> {
  const algorithm = options.hashAlgorithm ?? "md5";
  const slots: number[] = [];
  pool.forEach((item, index) => {
    for (let i = 0; i < item.weight; i++) slots.push(index);
  });
  return {
    pick(context, eligible) {
      if (slots.length === 0) return undefined;
      const start = hash32(algorithm, context.clientIp) % slots.length;
      for (let step = 0; step < slots.length; step++) {
        const item = pool[slots[(start + step) % slots.length]!]!;
        if (eligible(item)) return item;
      }
      return undefined;
    },
  };
}
