/**
 * Model name patterns: `*` matches any run of characters, everything else itself.
 * @module
 */

/** A regular expression matching exactly the names `glob` matches. */
export function globToRegExp(glob: string): RegExp {
  const source = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`);
}
