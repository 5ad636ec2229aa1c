/**
 * Readers shared by adapters: OpenAI's model list, bearer auth, and the health rule of
 * backends whose health endpoint answers 2xx when up.
 * @module
 */
import type { Reader } from "./types.ts";

/** `Authorization: Bearer <key>`, which every supported backend accepts. */
export function bearer(key: string): readonly [string, string] {
  return ["authorization", `Bearer ${key}`];
}

/** Up when the health endpoint answers 2xx. */
export function success(status: number): boolean {
  return status >= 200 && status < 300;
}

/** The ids in an OpenAI `{"object": "list", "data": [{"id": …}]}` model list at `path`. */
export function openAiModelList(path: string): Reader<readonly string[]> {
  return {
    path,
    format: "json",
    read(body) {
      const data = (body as { data?: unknown } | null)?.data;
      if (!Array.isArray(data)) throw new TypeError("Expected a model list with a data array");
      return data.map((entry: unknown, index) => {
        const id = (entry as { id?: unknown } | null)?.id;
        if (typeof id !== "string" || id === "") {
          throw new TypeError(`Expected data[${index}].id to be a model name`);
        }
        return id;
      });
    },
  };
}

/**
 * Up when the server answers below 500: a cloud API may guard its model list or keep no health
 * endpoint, and a 401 or 404 still shows it is there; only a 5xx or no answer counts against it.
 */
export function answering(status: number): boolean {
  return status < 500;
}
