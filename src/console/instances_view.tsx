/**
 * The console's instances: every instance of every service with its status, health, breaker,
 * ejection, load and speed, and the controls to run it — drain, enable, reset its breaker,
 * change its weight, remove it, add one — each a call of the admin API's instance and breaker
 * routes, which check and answer it.
 * @module
 */
import type { Context } from "hono";
import { ADAPTER_NAMES } from "../adapters/mod.ts";
import { etagOf } from "../admin/preconditions.ts";
import type { LiveConfig } from "../config/live_config.ts";
import type { GatewayEnv } from "../gateway_env.ts";
import { isEjected } from "../health/outlier.ts";
import { isInService } from "../registry/availability.ts";
import type { Registry } from "../registry/registry.ts";
import type { Upstream } from "../registry/snapshot.ts";
import { SERVICE_TYPES, type ServiceType } from "../services.ts";
import { ChangeReasonField } from "./change_reason_field.tsx";
import { ActionForm } from "./action_form.tsx";
import { ActionButton } from "./action_button.tsx";
import { Field } from "./field.tsx";
import { formatCount, formatMs, formatShare, formatTime, UNKNOWN } from "./format.ts";
import { refusalOf } from "./view.ts";
import type { ConsoleView } from "./view.ts";

/** What the instances view reads. */
export interface InstancesViewDeps {
  readonly registry: Registry;
  readonly live: LiveConfig;
  readonly now: () => number;
}

/** The instances view, read from the registry's snapshot. */
export function instancesView(deps: InstancesViewDeps): ConsoleView {
  return {
    id: "instances",
    title: "Instances",
    render(c) {
      const at = deps.now();
      const ifMatch = etagOf(deps.live.version);
      const services = SERVICE_TYPES.filter((type) =>
        deps.registry.snapshot.services[type].derivedFrom === undefined
      );
      const shown = services.filter((type) =>
        deps.registry.snapshot.services[type].upstreams.length > 0
      );
      return (
        <section data-refresh="5" aria-labelledby="instances-title">
          <h1 id="instances-title">Instances</h1>
          <p class="muted small">
            Config version{" "}
            {deps.live.version}. Changes take effect at once; requests in flight on a drained or
            removed instance finish.
          </p>
          <ChangeReasonField />
          {shown.length === 0 ? <p>No service has an instance.</p> : null}
          {shown.map((type) => (
            <ServiceInstances
              key={type}
              c={c}
              type={type}
              upstreams={deps.registry.snapshot.services[type].upstreams}
              strategy={deps.registry.snapshot.services[type].loadBalance.type}
              at={at}
              ifMatch={ifMatch}
            />
          ))}
          <AddInstance c={c} services={services} ifMatch={ifMatch} />
        </section>
      );
    },
  };
}

interface ServiceInstancesProps {
  readonly c: Context<GatewayEnv>;
  readonly type: ServiceType;
  readonly upstreams: readonly Upstream[];
  readonly strategy: string;
  readonly at: number;
  readonly ifMatch: string;
}

function ServiceInstances(props: ServiceInstancesProps) {
  const { type, at } = props;
  return (
    <>
      <h2>
        {type} <span class="muted small">{props.strategy}</span>
      </h2>
      <div class="table-wrap">
        <table class="instances">
          <caption class="visually-hidden">Instances of the {type} service</caption>
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Adapter</th>
              <th scope="col">Weight</th>
              <th scope="col">Status</th>
              <th scope="col">Health</th>
              <th scope="col">Breaker</th>
              <th scope="col">In flight</th>
              <th scope="col" title="Requests of its models waiting for a free instance">
                Queued
              </th>
              <th scope="col" title="As the backend last reported it">Backend load</th>
              <th scope="col" title="Time to first token, a decaying average">TTFT</th>
              <th scope="col">Requests</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {props.upstreams.map((upstream) => (
              <InstanceRow
                key={upstream.id}
                c={props.c}
                type={type}
                upstream={upstream}
                at={at}
                ifMatch={props.ifMatch}
              />
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

interface InstanceRowProps {
  readonly c: Context<GatewayEnv>;
  readonly type: ServiceType;
  readonly upstream: Upstream;
  readonly at: number;
  readonly ifMatch: string;
}

function InstanceRow(props: InstanceRowProps) {
  const { c, type, upstream, at, ifMatch } = props;
  const { state, backend } = upstream;
  const path = `/admin/services/${type}/instances/${encodeURIComponent(upstream.id)}`;
  const ejected = isEjected(state, backend.health, at);
  const breaker = upstream.breaker?.status(at);
  const queued = upstream.queues.reduce((sum, queue) => sum + queue.length, 0);
  const load = backend.load?.reading;
  const weightRefusal = refusalOf(c, "PATCH", path);
  return (
    <tr data-instance={upstream.id}>
      <th scope="row">
        <span class="instance-name">{upstream.name}</span>
        <span class="muted small instance-url">{upstream.url}</span>
        {upstream.discover && backend.models
          ? (
            <span class="muted small block" title={backend.models.join(", ")}>
              serves the {backend.models.length} models its backend lists
            </span>
          )
          : null}
        {isInService(upstream, at) ? null : <span class="status-down small">out of service</span>}
      </th>
      <td>{upstream.adapter}</td>
      <td>{upstream.weight}</td>
      <td class={`status-${upstream.status}`}>{upstream.status}</td>
      <td>
        <span class={`status-${backend.health.status}`}>{backend.health.status}</span>
        <span class="muted small block">{backend.health.reason}</span>
        {ejected && state.ejection
          ? (
            <span class="status-down small block">
              ejected until {formatTime(state.ejection.until)}: {state.ejection.reason}
            </span>
          )
          : null}
        {state.cooldownUntil > at
          ? (
            <span class="status-draining small block">
              skipped until {formatTime(state.cooldownUntil)} after a 429
            </span>
          )
          : null}
      </td>
      <td class={breaker ? `status-${breaker}` : "muted"}>{breaker ?? "none"}</td>
      <td>
        {state.active}
        {upstream.maxConcurrency === Infinity
          ? null
          : <span class="muted">{` / ${upstream.maxConcurrency}`}</span>}
        {state.activeTokens > 0
          ? <span class="muted small block">{formatCount(state.activeTokens)} tokens</span>
          : null}
      </td>
      <td>{queued}</td>
      <td>
        {load === undefined ? <span class="muted">{UNKNOWN}</span> : (
          <>
            {load.running === undefined ? null : <span class="block">{load.running} running</span>}
            {load.waiting === undefined ? null : <span class="block">{load.waiting} waiting</span>}
            {load.kvCacheUsage === undefined
              ? null
              : <span class="block">KV cache {formatShare(load.kvCacheUsage)}</span>}
            <span class="muted small block">read {formatTime(backend.load!.at)}</span>
          </>
        )}
      </td>
      <td class="num">{formatMs(state.performance.firstToken.value)}</td>
      <td>
        <span data-requests>{formatCount(state.requests)}</span>
        {state.failures > 0
          ? <span class="status-down small block">{formatCount(state.failures)} failed</span>
          : null}
      </td>
      <td>
        <div class="actions">
          {upstream.status === "active"
            ? (
              <ActionButton
                c={c}
                method="PATCH"
                path={path}
                body={{ status: "draining" }}
                label="Drain"
                description={`Drain ${upstream.id}: no new requests`}
                done={`Draining ${upstream.id}.`}
                ifMatch={ifMatch}
              />
            )
            : (
              <ActionButton
                c={c}
                method="PATCH"
                path={path}
                body={{ status: "active" }}
                label="Enable"
                description={`Enable ${upstream.id}: it takes requests again`}
                done={`${upstream.id} is active.`}
                ifMatch={ifMatch}
              />
            )}
          {upstream.breaker
            ? (
              <ActionButton
                c={c}
                method="POST"
                path={`/admin/breakers/${encodeURIComponent(upstream.id)}/reset`}
                label="Reset breaker"
                description={`Close the circuit breaker of ${upstream.id}`}
                done={`The breaker of ${upstream.id} is closed.`}
              />
            )
            : null}
          <form
            class="inline weight"
            data-url={path}
            data-method="PATCH"
            data-if-match={ifMatch}
            data-done={`Weight of ${upstream.id} changed.`}
          >
            <input
              name="weight"
              type="number"
              data-type="number"
              min="1"
              max="1000"
              required
              value={String(upstream.weight)}
              aria-label={`Weight of ${upstream.id}`}
              title={weightRefusal}
              disabled={weightRefusal !== undefined}
            />
            <button
              type="submit"
              class="secondary"
              aria-label={`Set the weight of ${upstream.id}`}
              title={weightRefusal}
              disabled={weightRefusal !== undefined}
            >
              Set weight
            </button>
          </form>
          <ActionButton
            c={c}
            method="DELETE"
            path={path}
            label="Remove"
            description={`Remove ${upstream.id}`}
            confirm={`Remove ${upstream.id} from the ${type} service?`}
            done={`Removed ${upstream.id}.`}
            tone="danger"
            ifMatch={ifMatch}
          />
        </div>
      </td>
    </tr>
  );
}

interface AddInstanceProps {
  readonly c: Context<GatewayEnv>;
  readonly services: readonly ServiceType[];
  readonly ifMatch: string;
}

function AddInstance(props: AddInstanceProps) {
  return (
    <>
      <h2 id="add-instance-title">Add an instance</h2>
      <ActionForm
        c={props.c}
        method="POST"
        url="/admin/services/{service}/instances"
        path="/admin/services/chat/instances"
        labelledBy="add-instance-title"
        ifMatch={props.ifMatch}
        done="Instance added; it takes requests now."
        submit="Add instance"
      >
        <Field id="add-instance-service" label="Service">
          <select id="add-instance-service" name="service" required>
            {props.services.map((type) => <option key={type} value={type}>{type}</option>)}
          </select>
        </Field>
        <Field id="add-instance-name" label="Model name">
          <input
            id="add-instance-name"
            name="name"
            required
            placeholder="qwen3-8b"
          />
        </Field>
        <Field id="add-instance-base-url" label="Base URL">
          <input
            id="add-instance-base-url"
            name="base-url"
            type="url"
            required
            placeholder="http://10.0.0.7:8000"
          />
        </Field>
        <Field id="add-instance-adapter" label="Adapter">
          <select id="add-instance-adapter" name="adapter">
            <option value="">the service's</option>
            {ADAPTER_NAMES.map((name) => <option key={name} value={name}>{name}</option>)}
          </select>
        </Field>
        <Field id="add-instance-weight" label="Weight">
          <input
            id="add-instance-weight"
            name="weight"
            type="number"
            data-type="number"
            min="1"
            max="1000"
            placeholder="1"
          />
        </Field>
      </ActionForm>
    </>
  );
}
