/**
 * The console's recent errors: the latest client requests answered 429 or 5xx, or cut short,
 * with the fields their log line carries, so that an operator can find the line by its request
 * id (which the client also got, as `x-request-id`).
 * @module
 */
import type { Telemetry } from "../observe/telemetry.ts";
import { formatTime, UNKNOWN } from "./format.ts";
import type { ConsoleView } from "./view.ts";

/** What the errors view reads. */
export interface ErrorsViewDeps {
  readonly telemetry: Telemetry;
}

/** The recent errors view, read from the same ring the status page reads. */
export function errorsView(deps: ErrorsViewDeps): ConsoleView {
  return {
    id: "errors",
    title: "Errors",
    render() {
      const errors = deps.telemetry.recentErrors.list();
      return (
        <section data-refresh="5" aria-labelledby="errors-title" data-module="copy">
          <h1 id="errors-title">Recent errors</h1>
          <p class="muted small">
            The latest {deps.telemetry.recentErrors.size}{" "}
            requests answered 429 or 5xx, or cut short, newest first. Each one's log line carries
            its <code>request_id</code>: copy it and search the gateway's log for it, e.g.{" "}
            <code>grep 5f0c… switchyard.log</code>. Clients get it as <code>x-request-id</code>.
          </p>
          {errors.length === 0
            ? <p>No failed request since the gateway started.</p>
            : (
              <div class="table-wrap">
                <table class="errors">
                  <caption class="visually-hidden">Recent failed requests, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Time</th>
                      <th scope="col">Request id</th>
                      <th scope="col">Service</th>
                      <th scope="col">Model</th>
                      <th scope="col">Instance</th>
                      <th scope="col">Status</th>
                      <th scope="col">Error</th>
                    </tr>
                  </thead>
                  <tbody>
                    {errors.map((error) => (
                      <tr key={error.requestId} data-request-id={error.requestId}>
                        <td>{formatTime(error.at)}</td>
                        <th scope="row">
                          <code class="request-id">{error.requestId}</code>
                          <button
                            type="button"
                            class="copy"
                            data-copy={error.requestId}
                            aria-label={`Copy the request id ${error.requestId}`}
                          >
                            Copy
                          </button>
                        </th>
                        <td>{error.service}</td>
                        <td>{error.model || UNKNOWN}</td>
                        <td class="instance">{error.instance ?? UNKNOWN}</td>
                        <td class="status-down">
                          {error.status}
                          {error.outcome === "complete"
                            ? null
                            : <span class="small block">{error.outcome}</span>}
                        </td>
                        <td>
                          {error.reason
                            ? <code>{error.reason}</code>
                            : <span class="muted">the backend's answer, passed on</span>}
                          {error.message ? <span class="block">{error.message}</span> : null}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
        </section>
      );
    },
  };
}
