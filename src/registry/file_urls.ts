/**
 * The base URLs a config file's `model:` section names: the backends an operator wrote down,
 * trusted with any address, where an instance added through the admin API is held to the
 * address policy.
 * @module
 */
import { isJsonObject } from "../lib/json.ts";

/** Every instance base URL in `model` (as written or parsed), without trailing slashes. */
export function fileBaseUrls(model: unknown): ReadonlySet<string> {
  const urls = new Set<string>();
  const services = isJsonObject(model) ? model.services : undefined;
  if (!isJsonObject(services)) return urls;
  for (const service of Object.values(services)) {
    const instances = isJsonObject(service) ? service.instances : undefined;
    if (!Array.isArray(instances)) continue;
    for (const instance of instances) {
      const url = isJsonObject(instance) ? instance["base-url"] : undefined;
      if (typeof url === "string") urls.add(url.replace(/\/+$/, ""));
    }
  }
  return urls;
}
