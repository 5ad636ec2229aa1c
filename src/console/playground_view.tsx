/**
 * The console's playground: sends a chat, an embedding or a speech request through the gateway's
 * own `/v1` API, as a client would, and shows the answer as it arrives, with the instance that
 * served it, its attempts, time to first token, tokens per second, total time, and the raw
 * request body and response headers. `playground.js` sends it; the models offered are those
 * `GET /v1/models` lists.
 * @module
 */
import type { Registry } from "../registry/registry.ts";
import type { ServiceType } from "../services.ts";
import script from "./assets/playground.js" with { type: "text" };
import type { ConsoleView } from "./view.ts";

/** The playground's own script, `/console/assets/playground.js`. */
export const PLAYGROUND_ASSETS = {
  "playground.js": { body: script, type: "text/javascript; charset=utf-8" },
} as const;

/** The kinds of request the playground sends, and the service each goes to. */
const KINDS: readonly { readonly id: string; readonly label: string; service: ServiceType }[] = [
  { id: "chat", label: "Chat", service: "chat" },
  { id: "embedding", label: "Embedding", service: "embedding" },
  { id: "speech", label: "Speech", service: "tts" },
];

/** What the playground needs to know. */
export interface PlaygroundDeps {
  readonly registry: Registry;
  /** Whether `/v1` needs a client key (`auth.enabled`). */
  readonly clientAuth: boolean;
}

/** The playground view. */
export function playgroundView(deps: PlaygroundDeps): ConsoleView {
  return {
    id: "playground",
    title: "Playground",
    render() {
      const models = deps.registry.snapshot.models;
      const offered = (service: ServiceType) =>
        models.some((model) => model.services.includes(service));
      const first = KINDS.find((kind) => offered(kind.service)) ?? KINDS[0]!;
      return (
        <section aria-labelledby="playground-title">
          <h1 id="playground-title">Playground</h1>
          <div class="playground" data-module="playground">
            <form class="playground-form" data-playground novalidate>
              {deps.clientAuth
                ? (
                  <p class="field">
                    <label for="playground-client-key">Client API key for /v1</label>
                    <input
                      id="playground-client-key"
                      name="client-key"
                      type="password"
                      autocomplete="off"
                      aria-describedby="playground-client-key-note"
                    />
                    <span id="playground-client-key-note" class="muted small">
                      Client authentication is on: requests need a client key, not the admin key.
                      Kept in this tab only.
                    </span>
                  </p>
                )
                : null}
              <fieldset class="kinds">
                <legend>Kind</legend>
                {KINDS.map((kind) => (
                  <label key={kind.id}>
                    <input
                      type="radio"
                      name="kind"
                      value={kind.id}
                      data-service={kind.service}
                      checked={kind === first}
                      disabled={!offered(kind.service)}
                    />
                    {kind.label}
                  </label>
                ))}
              </fieldset>
              <p class="field">
                <label for="playground-model">Model</label>
                <select id="playground-model" name="model" required>
                  {models.map((model) => (
                    <option
                      key={model.id}
                      value={model.id}
                      data-services={model.services.join(" ")}
                    >
                      {model.id}
                    </option>
                  ))}
                </select>
              </p>
              <div data-kind="chat">
                <p class="field">
                  <label for="playground-system">System prompt (optional)</label>
                  <textarea id="playground-system" name="system" rows={2}></textarea>
                </p>
                <p class="field">
                  <label for="playground-message">Message</label>
                  <textarea id="playground-message" name="message" rows={4}>
                    Say hello in five words.
                  </textarea>
                </p>
                <div class="field-row">
                  <p class="field">
                    <label for="playground-temperature">Temperature</label>
                    <input
                      id="playground-temperature"
                      name="temperature"
                      type="number"
                      min="0"
                      max="2"
                      step="0.1"
                      placeholder="default"
                    />
                  </p>
                  <p class="field">
                    <label for="playground-max-tokens">Max tokens</label>
                    <input
                      id="playground-max-tokens"
                      name="max-tokens"
                      type="number"
                      min="1"
                      step="1"
                      placeholder="default"
                    />
                  </p>
                  <p class="field checkbox">
                    <label>
                      <input type="checkbox" name="stream" checked /> Stream
                    </label>
                  </p>
                </div>
              </div>
              <div data-kind="embedding" hidden>
                <p class="field">
                  <label for="playground-input">Input</label>
                  <textarea id="playground-input" name="input" rows={3}>
                    The quick brown fox
                  </textarea>
                </p>
              </div>
              <div data-kind="speech" hidden>
                <p class="field">
                  <label for="playground-speech">Text to speak</label>
                  <textarea id="playground-speech" name="speech" rows={3}>
                    Hello from the gateway.
                  </textarea>
                </p>
                <p class="field">
                  <label for="playground-voice">Voice</label>
                  <input id="playground-voice" name="voice" value="alloy" />
                </p>
              </div>
              <p class="actions">
                <button type="submit">Send</button>
                <button type="button" data-stop disabled>Stop</button>
              </p>
            </form>
            <section class="playground-result" aria-labelledby="playground-answer-title">
              <h2 id="playground-answer-title">Answer</h2>
              <div class="answer" data-answer aria-live="polite">
                <p class="muted">Nothing sent yet.</p>
              </div>
              <dl class="facts" data-facts>
                <dt>Status</dt>
                <dd data-fact="status">–</dd>
                <dt>Served by</dt>
                <dd data-fact="instance">–</dd>
                <dt>Attempts</dt>
                <dd data-fact="attempts">–</dd>
                <dt>Time to first token</dt>
                <dd data-fact="ttft">–</dd>
                <dt>Tokens per second</dt>
                <dd data-fact="rate">–</dd>
                <dt>Total time</dt>
                <dd data-fact="total">–</dd>
                <dt>Request id</dt>
                <dd data-fact="request-id">–</dd>
              </dl>
              <details>
                <summary>Request body</summary>
                <pre data-raw="request"></pre>
              </details>
              <details>
                <summary>Response headers</summary>
                <pre data-raw="headers"></pre>
              </details>
            </section>
          </div>
        </section>
      );
    },
  };
}
