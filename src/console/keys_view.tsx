/**
 * The console's API keys and teams: every client key (never the key itself) and team with its
 * models, limits, priority, budget and expiry; what each used today and this month; and the
 * controls of the admin API's key and team routes — create a key (shown once), narrow its models
 * and limits, disable or enable it, revoke it; create a team, disable or enable it, delete it.
 * @module
 */
import type { Context } from "hono";
import type { Authenticator } from "../auth/authenticator.ts";
import type { TeamConfig } from "../config/schema.ts";
import type { BudgetLimits } from "../budget/budgets.ts";
import type { UsageLedger, Used } from "../budget/ledger.ts";
import type { GatewayEnv } from "../gateway_env.ts";
import { PRIORITY_CLASSES } from "../queue/priority.ts";
import type { ApiKeyStore } from "../store/mod.ts";
import { ActionForm } from "./action_form.tsx";
import { ActionButton } from "./action_button.tsx";
import { ChangeReasonField } from "./change_reason_field.tsx";
import { Field } from "./field.tsx";
import { formatCount, formatTime, formatUsd, UNKNOWN } from "./format.ts";
import { listedKeys } from "../admin/routes_keys.ts";
import type { ConsoleView } from "./view.ts";

/** What the keys view reads. */
export interface KeysViewDeps {
  readonly keys: ApiKeyStore;
  readonly authenticator: Authenticator;
  readonly ledger: UsageLedger | undefined;
  readonly now: () => number;
}

/** A key as the view shows it: its settings, never the key. */
interface ShownKey {
  readonly id: string;
  readonly source: "config" | "admin";
  readonly team?: string | undefined;
  readonly models?: readonly string[] | undefined;
  readonly "rate-limit"?: Readonly<Record<string, unknown>> | undefined;
  readonly budget?: BudgetLimits | undefined;
  readonly "max-concurrency"?: number | "auto" | undefined;
  readonly priority?: string | undefined;
  readonly expires?: string | undefined;
  readonly enabled: boolean;
  readonly created?: string | undefined;
  readonly by?: string | undefined;
}

/** The keys and teams view. */
export function keysView(deps: KeysViewDeps): ConsoleView {
  return {
    id: "keys",
    title: "Keys & teams",
    async render(c) {
      const keys: ShownKey[] = await listedKeys(deps.authenticator, deps.keys);
      const teams = deps.authenticator.teams;
      const at = deps.now();
      return (
        <section data-refresh="15" aria-labelledby="keys-title">
          <h1 id="keys-title">API keys</h1>
          <ChangeReasonField />
          {deps.authenticator.enabled ? null : (
            <p class="muted small">
              Client authentication is off (auth.enabled): keys are kept but not asked for.
            </p>
          )}
          <div class="table-wrap">
            <table class="keys">
              <caption class="visually-hidden">Client API keys</caption>
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Team</th>
                  <th scope="col">Models</th>
                  <th scope="col">Limits</th>
                  <th scope="col">Priority</th>
                  <th scope="col">Budget</th>
                  <th scope="col">Enabled</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {keys.map((key) => <KeyRow key={key.id} c={c} shownKey={key} at={at} />)}
              </tbody>
            </table>
          </div>
          {keys.length === 0 ? <p class="muted">No API key yet.</p> : null}
          <CreateKey c={c} teams={teams.map((team) => team.id)} />
          <h2 id="teams-title">Teams</h2>
          {teams.length === 0 ? <p class="muted">No team yet.</p> : (
            <div class="table-wrap">
              <table class="teams">
                <caption class="visually-hidden">Teams</caption>
                <thead>
                  <tr>
                    <th scope="col">Team</th>
                    <th scope="col">Keys</th>
                    <th scope="col">Models</th>
                    <th scope="col">Limits</th>
                    <th scope="col">Priority</th>
                    <th scope="col">Budget</th>
                    <th scope="col">Enabled</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {teams.map((team) => (
                    <TeamRow
                      key={team.id}
                      c={c}
                      team={team}
                      keys={keys.filter((key) => key.team === team.id).length}
                      inConfig={deps.authenticator.configuredTeamIds.has(team.id)}
                    />
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <CreateTeam c={c} />
          <Usage
            ledger={deps.ledger}
            subjects={[
              ...keys.map((key) => ({ kind: "key", id: key.id })),
              ...teams.map((team) => ({ kind: "team", id: team.id })),
            ]}
          />
        </section>
      );
    },
  };
}

function KeyRow(props: { c: Context<GatewayEnv>; shownKey: ShownKey; at: number }) {
  const { c, shownKey: key } = props;
  const path = `/admin/keys/${encodeURIComponent(key.id)}`;
  const expired = key.expires !== undefined && Date.parse(key.expires) <= props.at;
  const inConfig = key.source === "config";
  return (
    <tr data-key={key.id}>
      <th scope="row">
        {key.id}
        <span class="muted small block">
          {inConfig
            ? "in the config file"
            : `created ${key.created ? formatTime(key.created) : UNKNOWN} by ${key.by ?? UNKNOWN}`}
        </span>
      </th>
      <td>{key.team ?? <span class="muted">{UNKNOWN}</span>}</td>
      <td>
        {key.models === undefined && key.team
          ? <span class="muted">the team's</span>
          : modelsOf(key.models)}
      </td>
      <td>{limitsOf(key["rate-limit"], key["max-concurrency"])}</td>
      <td>{key.priority ?? <span class="muted">{key.team ? "the team's" : "normal"}</span>}</td>
      <td>{budgetOf(key.budget)}</td>
      <td class={key.enabled ? "status-active" : "status-down"}>{key.enabled ? "yes" : "no"}</td>
      <td class={expired ? "status-down" : undefined}>
        {key.expires ? `${formatTime(key.expires)}${expired ? " (expired)" : ""}` : "never"}
      </td>
      <td>
        {inConfig
          ? <span class="muted small">change it in the config file</span>
          : (
            <div class="actions">
              <SwitchAndRemove
                c={c}
                path={path}
                what={`the key ${key.id}`}
                enabled={key.enabled}
                remove="Revoke"
                removed="revoked"
                confirm={`Revoke the key ${key.id}? Clients using it are refused at once.`}
              />
              <EditKey c={c} shownKey={key} path={path} />
            </div>
          )}
      </td>
    </tr>
  );
}

function TeamRow(
  props: { c: Context<GatewayEnv>; team: TeamConfig; keys: number; inConfig: boolean },
) {
  const { c, team } = props;
  const path = `/admin/teams/${encodeURIComponent(team.id)}`;
  return (
    <tr data-team={team.id}>
      <th scope="row">
        {team.id}
        <span class="muted small block">
          {props.inConfig ? "in the config file" : "made through the admin API"}
        </span>
      </th>
      <td>{props.keys}</td>
      <td>{modelsOf(team.models)}</td>
      <td>{limitsOf(team["rate-limit"], team["max-concurrency"])}</td>
      <td>{team.priority}</td>
      <td>{budgetOf(team.budget)}</td>
      <td class={team.enabled ? "status-active" : "status-down"}>
        {team.enabled ? "yes" : "no"}
      </td>
      <td>
        {props.inConfig
          ? <span class="muted small">change it in the config file</span>
          : (
            <div class="actions">
              <SwitchAndRemove
                c={c}
                path={path}
                what={`the team ${team.id}`}
                enabled={team.enabled}
                remove="Delete"
                removed="deleted"
                confirm={`Delete the team ${team.id}? Only a team without keys can be deleted.`}
              />
            </div>
          )}
      </td>
    </tr>
  );
}

/** The buttons that disable or enable a key or team, and remove it (after `confirm`). */
function SwitchAndRemove(
  props: {
    c: Context<GatewayEnv>;
    path: string;
    /** What it is, as a sentence names it: `the key alice`. */
    what: string;
    enabled: boolean;
    remove: string;
    removed: string;
    confirm: string;
  },
) {
  const switched = props.enabled ? "disabled" : "enabled";
  const name = props.what.charAt(0).toUpperCase() + props.what.slice(1);
  return (
    <>
      <ActionButton
        c={props.c}
        method="PATCH"
        path={props.path}
        body={{ enabled: !props.enabled }}
        label={props.enabled ? "Disable" : "Enable"}
        description={`${props.enabled ? "Disable" : "Enable"} ${props.what}`}
        done={`${name} is ${switched}.`}
      />
      <ActionButton
        c={props.c}
        method="DELETE"
        path={props.path}
        label={props.remove}
        description={`${props.remove} ${props.what}`}
        confirm={props.confirm}
        done={`${name} is ${props.removed}.`}
        tone="danger"
      />
    </>
  );
}

/**
 * The number fields of a key's or team's limits: requests per second and burst, requests in
 * flight at once, and requests a day. Left empty, a field sends nothing.
 */
function LimitFields(props: { idPrefix: string }) {
  const fields = [
    ["rate-limit.rate", "Requests per second", "0"],
    ["rate-limit.capacity", "Burst", "1"],
    ["max-concurrency", "In flight at once", "1"],
    ["budget.requests-per-day", "Requests a day", "1"],
  ] as const;
  return (
    <>
      {fields.map(([name, label, min]) => {
        const id = `${props.idPrefix}-${name.replaceAll(".", "-")}`;
        return (
          <Field key={id} id={id} label={label}>
            <input
              id={id}
              name={name}
              type="number"
              data-type="number"
              min={min}
              step={min === "0" ? "any" : undefined}
            />
          </Field>
        );
      })}
    </>
  );
}

/** A form that makes a team: its models, class, shared limit, cap and daily requests. */
function CreateTeam(props: { c: Context<GatewayEnv> }) {
  return (
    <>
      <h2 id="create-team-title">Create a team</h2>
      <ActionForm
        c={props.c}
        method="POST"
        url="/admin/teams"
        labelledBy="create-team-title"
        done="Team created."
        submit="Create team"
      >
        <Field id="create-team-id" label="Team id">
          <input
            id="create-team-id"
            name="id"
            required
            placeholder="research"
          />
        </Field>
        <Field id="create-team-models" label="Models (comma-separated)">
          <input
            id="create-team-models"
            name="models"
            data-type="list"
            placeholder="every model"
          />
        </Field>
        <Field id="create-team-priority" label="Priority">
          <select id="create-team-priority" name="priority">
            {PRIORITY_CLASSES.map((priority) => (
              <option key={priority} value={priority} selected={priority === "normal"}>
                {priority}
              </option>
            ))}
          </select>
        </Field>
        <LimitFields idPrefix="create-team" />
      </ActionForm>
    </>
  );
}

/** A form that changes what a key may use; fields left empty stay as they are. */
function EditKey(props: { c: Context<GatewayEnv>; shownKey: ShownKey; path: string }) {
  const { shownKey: key } = props;
  return (
    <details class="edit">
      <summary>
        Change<span class="visually-hidden">{` the key ${key.id}`}</span>
      </summary>
      <ActionForm
        c={props.c}
        method="PATCH"
        url={props.path}
        label={`Change the key ${key.id}`}
        done={`The key ${key.id} is changed.`}
        submit="Save"
      >
        <Field id={`key-${key.id}-models`} label="Models (comma-separated)">
          <input
            id={`key-${key.id}-models`}
            name="models"
            data-type="list"
            value={key.models?.join(", ")}
            placeholder="every model"
          />
        </Field>
        <LimitFields idPrefix={`key-${key.id}`} />
      </ActionForm>
    </details>
  );
}

function CreateKey(props: { c: Context<GatewayEnv>; teams: readonly string[] }) {
  return (
    <>
      <h2 id="create-key-title">Create a key</h2>
      <ActionForm
        c={props.c}
        method="POST"
        url="/admin/keys"
        labelledBy="create-key-title"
        reveal="key"
        done="Key created."
        submit="Create key"
      >
        <Field id="create-key-id" label="Key id">
          <input id="create-key-id" name="id" required placeholder="alice" />
        </Field>
        <Field id="create-key-team" label="Team">
          <select id="create-key-team" name="team">
            <option value="">none</option>
            {props.teams.map((team) => <option key={team} value={team}>{team}</option>)}
          </select>
        </Field>
        <Field id="create-key-models" label="Models (comma-separated)">
          <input
            id="create-key-models"
            name="models"
            data-type="list"
            placeholder="every model"
          />
        </Field>
        <Field id="create-key-priority" label="Priority">
          <select id="create-key-priority" name="priority">
            <option value="">default</option>
            {PRIORITY_CLASSES.map((priority) => (
              <option key={priority} value={priority}>{priority}</option>
            ))}
          </select>
        </Field>
        <Field id="create-key-budget-requests-per-day" label="Requests a day">
          <input
            id="create-key-budget-requests-per-day"
            name="budget.requests-per-day"
            type="number"
            data-type="number"
            min="1"
          />
        </Field>
        <Field id="create-key-expires" label="Expires">
          <input
            id="create-key-expires"
            name="expires"
            placeholder="2027-01-01T00:00:00Z"
            pattern="\d{4}-\d{2}-\d{2}T.+"
          />
        </Field>
      </ActionForm>
    </>
  );
}

function Usage(
  props: {
    /** What each key and team used, as their budgets count it. */
    ledger: UsageLedger | undefined;
    subjects: readonly { kind: string; id: string }[];
  },
) {
  const ledger = props.ledger;
  return (
    <>
      <h2 id="usage-title">Usage</h2>
      {ledger === undefined
        ? (
          <p class="muted">
            Use per key and team is kept only with client authentication on (auth.enabled).
          </p>
        )
        : (
          <div class="table-wrap">
            <table class="usage">
              <caption class="visually-hidden">
                Requests, tokens and spend of each key and team, today and this month
              </caption>
              <thead>
                <tr>
                  <th scope="col" rowspan={2}>Key or team</th>
                  <th scope="colgroup" colspan={3}>Today</th>
                  <th scope="colgroup" colspan={3}>This month</th>
                </tr>
                <tr>
                  <th scope="col">Requests</th>
                  <th scope="col">Tokens</th>
                  <th scope="col">Spend</th>
                  <th scope="col">Requests</th>
                  <th scope="col">Tokens</th>
                  <th scope="col">Spend</th>
                </tr>
              </thead>
              <tbody>
                {props.subjects.map(({ kind, id }) => {
                  const subject = `${kind}:${id}`;
                  return (
                    <tr key={subject} data-usage={subject}>
                      <th scope="row">
                        {id} <span class="muted small">{kind}</span>
                      </th>
                      <UsageCells used={ledger.used(subject, "day")} />
                      <UsageCells used={ledger.used(subject, "month")} />
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
    </>
  );
}

function UsageCells(props: { used: Used }) {
  const { requests, tokens, spend } = props.used;
  return (
    <>
      <td>{formatCount(requests)}</td>
      <td>{formatCount(tokens)}</td>
      <td>{formatUsd(spend)}</td>
    </>
  );
}

function modelsOf(models: readonly string[] | undefined) {
  return models === undefined ? <span class="muted">every model</span> : models.join(", ");
}

function limitsOf(
  limit: Readonly<Record<string, unknown>> | undefined,
  concurrency: number | "auto" | undefined,
) {
  const parts: string[] = [];
  if (limit && limit.enabled !== false) {
    if (typeof limit.rate === "number") parts.push(`${limit.rate}/s`);
    if (typeof limit.capacity === "number") parts.push(`burst ${limit.capacity}`);
    if (typeof limit["tokens-per-minute"] === "number") {
      parts.push(`${formatCount(limit["tokens-per-minute"])} tokens/min`);
    }
  }
  if (concurrency !== undefined) parts.push(`${concurrency} in flight`);
  return parts.length === 0 ? <span class="muted">none</span> : parts.join(", ");
}

function budgetOf(budget: BudgetLimits | undefined) {
  const entries = Object.entries(budget ?? {}) as [string, number | undefined][];
  const parts = entries.flatMap(([name, value]) => {
    if (value === undefined) return [];
    const [what, per] = name.split("-per-");
    return [`${what === "spend" ? formatUsd(value) : `${formatCount(value)} ${what}`} a ${per}`];
  });
  return parts.length === 0 ? <span class="muted">none</span> : parts.join(", ");
}
