// The playground: sends the form's request through the gateway's /v1 API with fetch, as a
// client would (with the client key when one is given, never the admin key), shows the answer
// as it arrives (a chat stream is read event by event), and then asks the admin API which
// instance served it (GET /admin/requests/{x-request-id}).

const CLIENT_KEY = "switchyard.console.client-key";
/** How long to wait for the request's record after its answer ended, in tries 100 ms apart. */
const LOOKUPS = 20;

export function mount(root, api) {
  const form = root.querySelector("form[data-playground]");
  const send = form.querySelector('button[type="submit"]');
  const stop = root.querySelector("[data-stop]");
  const answer = root.querySelector("[data-answer]");
  const keyField = form.elements["client-key"];
  let controller;
  let audioUrl;
  /** ms from sending to the first token of the last answer, as the browser saw it. */
  let firstTokenAt;

  if (keyField) {
    keyField.value = sessionStorage.getItem(CLIENT_KEY) ?? "";
    keyField.addEventListener("input", () => {
      if (keyField.value) sessionStorage.setItem(CLIENT_KEY, keyField.value);
      else sessionStorage.removeItem(CLIENT_KEY);
    });
  }

  const kind = () => form.querySelector('input[name="kind"]:checked')?.value ?? "chat";

  /** Shows the chosen kind's fields, and only the models of its service. */
  function showKind() {
    const chosen = form.querySelector('input[name="kind"]:checked');
    for (const fields of form.querySelectorAll("[data-kind]")) {
      fields.hidden = fields.dataset.kind !== kind();
    }
    const service = chosen?.dataset.service;
    const select = form.elements.model;
    for (const option of select.options) {
      const fits = option.dataset.services.split(" ").includes(service);
      option.hidden = !fits;
      option.disabled = !fits;
    }
    if (select.selectedOptions[0]?.disabled !== false) {
      const first = [...select.options].find((option) => !option.disabled);
      if (first) first.selected = true;
    }
  }

  function fact(name, text) {
    root.querySelector(`[data-fact="${name}"]`).textContent = text;
  }

  function raw(name, text) {
    root.querySelector(`[data-raw="${name}"]`).textContent = text;
  }

  function say(text, className = "muted") {
    const p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    answer.append(p);
    return p;
  }

  /** The request the form describes: its path and JSON body. */
  function request() {
    const fields = form.elements;
    const model = fields.model.value;
    switch (kind()) {
      case "embedding":
        return { path: "/v1/embeddings", body: { model, input: fields.input.value } };
      case "speech":
        return {
          path: "/v1/audio/speech",
          body: { model, input: fields.speech.value, voice: fields.voice.value || "alloy" },
        };
      default: {
        const messages = [];
        if (fields.system.value.trim()) {
          messages.push({ role: "system", content: fields.system.value });
        }
        messages.push({ role: "user", content: fields.message.value });
        const body = { model, messages };
        if (fields.temperature.value !== "") body.temperature = Number(fields.temperature.value);
        if (fields["max-tokens"].value !== "") {
          body.max_tokens = Number(fields["max-tokens"].value);
        }
        if (fields.stream.checked) {
          body.stream = true;
          body.stream_options = { include_usage: true };
        }
        return { path: "/v1/chat/completions", body };
      }
    }
  }

  async function submit() {
    if (!form.elements.model.value) {
      api.tell("Choose a model first", true);
      return;
    }
    const { path, body } = request();
    controller?.abort();
    controller = new AbortController();
    const headers = { "content-type": "application/json" };
    const key = keyField?.value;
    if (key) headers.authorization = `Bearer ${key}`;
    raw("request", `POST ${path}\n\n${JSON.stringify(body, null, 2)}`);
    raw("headers", "");
    for (const name of ["status", "instance", "attempts", "ttft", "rate", "total", "request-id"]) {
      fact(name, "–");
    }
    answer.replaceChildren();
    answer.setAttribute("aria-busy", "true");
    firstTokenAt = undefined;
    send.disabled = true;
    stop.disabled = false;
    const started = performance.now();
    let requestId;
    let servedModel;
    try {
      const response = await fetch(path, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      requestId = response.headers.get("x-request-id");
      servedModel = response.headers.get("x-switchyard-model") ??
        response.headers.get("x-switchyard-fallback-model");
      fact("status", `${response.status} ${response.statusText}`.trim());
      fact("request-id", requestId ?? "–");
      raw(
        "headers",
        `HTTP ${response.status} ${response.statusText}\n` +
          [...response.headers].map(([name, value]) => `${name}: ${value}`).join("\n"),
      );
      if (!response.ok) {
        say(await api.errorMessage(response), "failed");
      } else if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
        await readStream(response, started);
      } else if (kind() === "speech") {
        await playAudio(response);
      } else {
        showAnswer(await response.json(), started);
      }
    } catch (error) {
      say(error.name === "AbortError" ? "Stopped." : `Failed: ${error.message}`, "failed");
    } finally {
      fact("total", ms(performance.now() - started));
      answer.setAttribute("aria-busy", "false");
      send.disabled = false;
      stop.disabled = true;
      controller = undefined;
    }
    if (requestId) await showServer(requestId, servedModel);
  }

  /** Reads an SSE chat stream, adding each delta's text as it arrives. */
  async function readStream(response, started) {
    const text = say("", "answer-text");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let tokens = 0;
    let first;
    let last;
    let usage;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer = (buffer + value).replace(/\r\n?/g, "\n");
      const events = buffer.split("\n\n");
      buffer = events.pop();
      for (const event of events) {
        const data = event.split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data === "" || data === "[DONE]") continue;
        let parsed;
        try {
          parsed = JSON.parse(data);
        } catch {
          continue;
        }
        if (parsed.error) say(parsed.error.message ?? "The stream ended with an error", "failed");
        if (parsed.usage) usage = parsed.usage;
        const delta = parsed.choices?.[0]?.delta?.content;
        if (typeof delta === "string" && delta !== "") {
          const now = performance.now();
          if (first === undefined) {
            first = now;
            firstTokenAt = first - started;
            fact("ttft", ms(firstTokenAt));
          }
          last = now;
          tokens++;
          text.append(delta);
        }
      }
    }
    const generated = usage?.completion_tokens ?? tokens;
    if (first === undefined || generated < 2) return;
    // Tokens that came in one read have no time between them to measure.
    fact(
      "rate",
      last - first < 1
        ? `${generated} tokens at once`
        : `${((generated - 1) / ((last - first) / 1000)).toFixed(1)} tokens/s`,
    );
  }

  function showAnswer(json, started) {
    if (kind() === "embedding") {
      const vector = json.data?.[0]?.embedding ?? [];
      say(`${vector.length} dimensions`);
      const values = document.createElement("pre");
      values.textContent = vector.slice(0, 8).map((value) => Number(value).toFixed(6)).join(
        "\n",
      ) + (vector.length > 8 ? "\n…" : "");
      answer.append(values);
      return;
    }
    say(json.choices?.[0]?.message?.content ?? JSON.stringify(json), "answer-text");
    const generated = json.usage?.completion_tokens;
    const seconds = (performance.now() - started) / 1000;
    if (generated > 0) fact("rate", `${(generated / seconds).toFixed(1)} tokens/s (whole answer)`);
  }

  async function playAudio(response) {
    const blob = await response.blob();
    if (audioUrl) URL.revokeObjectURL(audioUrl);
    audioUrl = URL.createObjectURL(blob);
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.src = audioUrl;
    audio.setAttribute("aria-label", "The spoken answer");
    answer.append(audio);
    say(`${blob.size} bytes of ${blob.type || "audio"}`);
  }

  /** Asks the admin API which instance served the request, once its record is written. */
  async function showServer(requestId, servedModel) {
    for (let attempt = 0; attempt < LOOKUPS; attempt++) {
      const response = await api.call("GET", `/admin/requests/${encodeURIComponent(requestId)}`);
      if (response.ok) {
        const record = await response.json();
        const model = servedModel ? ` (model ${servedModel})` : "";
        const fallback = record.fallback ? ` (fallback: ${record.fallback})` : "";
        fact("instance", (record.instance ?? "none") + model + fallback);
        const retries = Math.max(0, record.attempts - 1);
        fact(
          "attempts",
          `${record.attempts}${
            retries > 0 ? ` (${retries} ${retries === 1 ? "retry" : "retries"})` : ""
          }`,
        );
        if (record.time_to_first_token_ms !== null && firstTokenAt !== undefined) {
          fact(
            "ttft",
            `${ms(firstTokenAt)} in the browser, ${
              ms(record.time_to_first_token_ms)
            } at the gateway`,
          );
        }
        return;
      }
      await response.body?.cancel();
      if (response.status !== 404) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  form.addEventListener("change", (event) => {
    if (event.target.name === "kind") showKind();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  stop.addEventListener("click", () => controller?.abort());
  showKind();
  return () => {
    controller?.abort();
    if (audioUrl) URL.revokeObjectURL(audioUrl);
  };
}

function ms(value) {
  return `${Math.round(value)} ms`;
}
