/**
 * The console's first view: each service with its instances counted by health and status,
 * and the requests in flight and waiting.
 * @module
 */
import { isInService } from "../registry/availability.ts";
import type { Registry } from "../registry/registry.ts";
import { waitingPerService } from "../stats/metrics_history.ts";
import type { ConsoleView } from "./view.ts";

/** The overview, read from the registry's snapshot. */
export function overviewView(registry: Registry, now: () => number): ConsoleView {
  return {
    id: "overview",
    title: "Overview",
    render() {
      const at = now();
      const snapshot = registry.snapshot;
      const waiting: ReadonlyMap<string, number> = waitingPerService(snapshot);
      const services = Object.entries(snapshot.services)
        .filter(([, service]) => service.derivedFrom === undefined);
      return (
        <section data-refresh="5" aria-labelledby="overview-title">
          <h1 id="overview-title">Overview</h1>
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Services</caption>
              <thead>
                <tr>
                  <th scope="col">Service</th>
                  <th scope="col">Instances</th>
                  <th scope="col">In service</th>
                  <th scope="col">Active</th>
                  <th scope="col">In flight</th>
                  <th scope="col">Queued</th>
                </tr>
              </thead>
              <tbody>
                {services.map(([type, service]) => {
                  const upstreams = service.upstreams;
                  return (
                    <tr>
                      <th scope="row">{type}</th>
                      <td>{upstreams.length}</td>
                      <td>{upstreams.filter((upstream) => isInService(upstream, at)).length}</td>
                      <td>{upstreams.filter((upstream) => upstream.status === "active").length}</td>
                      <td>{upstreams.reduce((sum, upstream) => sum + upstream.state.active, 0)}</td>
                      <td>{waiting.get(type) ?? 0}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </section>
      );
    },
  };
}
