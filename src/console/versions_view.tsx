/**
 * The console's config versions: who made each version, when, with which role and why, what
 * it changed against the version before (the admin API's diff), and a rollback to it; then the
 * audit trail of every admin write, key changes and resets included.
 * @module
 */
import type { Context } from "hono";
import type { AuditLog } from "../admin/audit.ts";
import { etagOf } from "../admin/preconditions.ts";
import { type ConfigChange, diffConfigs } from "../config/diff.ts";
import type { LiveConfig } from "../config/live_config.ts";
import type { GatewayEnv } from "../gateway_env.ts";
import type { JsonObject } from "../lib/json.ts";
import type { AuditEntry } from "../store/mod.ts";
import type { VersionInfo } from "../store/config_versions.ts";
import { UnsealError } from "../store/secret_box.ts";
import { ActionButton } from "./action_button.tsx";
import { ChangeReasonField } from "./change_reason_field.tsx";
import { formatTime, UNKNOWN } from "./format.ts";
import type { ConsoleView } from "./view.ts";

/** Versions shown with their diffs, newest first. */
const VERSIONS_SHOWN = 25;
/** Audit entries shown, newest first. */
const AUDIT_SHOWN = 50;
/** A value in a diff longer than this is cut. */
const VALUE_CHARS = 160;

/** What the versions view reads. */
export interface VersionsViewDeps {
  readonly live: LiveConfig;
  readonly audit: AuditLog;
}

/** A version's changes against the one before, or why they cannot be shown. */
type VersionDiff =
  | { readonly kind: "changes"; readonly changes: readonly ConfigChange[] }
  | { readonly kind: "first" }
  | { readonly kind: "unreadable"; readonly reason: string };

/** The versions view, read from the config's store and the audit trail. */
export function versionsView(deps: VersionsViewDeps): ConsoleView {
  return {
    id: "versions",
    title: "Versions",
    async render(c) {
      const history = await deps.live.store.history();
      const shown = history.slice(0, VERSIONS_SHOWN);
      const diffs = await diffsOf(deps.live, shown);
      const trail = await deps.audit.list(Math.max(AUDIT_SHOWN, VERSIONS_SHOWN * 4));
      const roles = new Map(
        trail.flatMap((entry) =>
          entry.version === undefined || entry.role === undefined
            ? []
            : [[entry.version, entry.role] as const]
        ),
      );
      return (
        <section data-refresh="30" aria-labelledby="versions-title">
          <h1 id="versions-title">Config versions</h1>
          <ChangeReasonField />
          <p class="muted small">
            Version {deps.live.version}{" "}
            is live. Rolling back makes an earlier version's config a new version; nothing is lost.
            {" "}
            {history.length > shown.length
              ? `The latest ${shown.length} of ${history.length} kept versions are shown.`
              : null}
          </p>
          <div class="table-wrap">
            <table class="versions">
              <caption class="visually-hidden">Config versions, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Time</th>
                  <th scope="col">By</th>
                  <th scope="col">Role</th>
                  <th scope="col">Change, and why</th>
                  <th scope="col">Against the version before</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((info, index) => (
                  <VersionRow
                    key={info.version}
                    c={c}
                    info={info}
                    role={roles.get(info.version)}
                    diff={diffs[index]!}
                    live={deps.live.version}
                  />
                ))}
              </tbody>
            </table>
          </div>
          <AuditTrail entries={trail.slice(0, AUDIT_SHOWN)} />
        </section>
      );
    },
  };
}

interface VersionRowProps {
  readonly c: Context<GatewayEnv>;
  readonly info: VersionInfo;
  readonly role: string | undefined;
  readonly diff: VersionDiff;
  readonly live: number;
}

function VersionRow(props: VersionRowProps) {
  const { info, live } = props;
  return (
    <tr data-version={String(info.version)}>
      <th scope="row">
        {info.version}
        {info.version === live ? <span class="status-active small block">live</span> : null}
      </th>
      <td>{formatTime(info.at)}</td>
      <td>{info.by}</td>
      <td>{props.role ?? <span class="muted">{UNKNOWN}</span>}</td>
      <td class="change">
        {info.action}
        {info.reason ? <span class="reason block">{info.reason}</span> : null}
      </td>
      <td>
        <DiffOf diff={props.diff} version={info.version} />
      </td>
      <td>
        {info.version === live ? null : (
          <ActionButton
            c={props.c}
            method="POST"
            path={`/admin/config/versions/${info.version}/apply`}
            label="Roll back"
            description={`Roll back to version ${info.version}`}
            confirm={`Make version ${info.version}'s config live again, as a new version?`}
            done={`Rolled back to version ${info.version}.`}
            ifMatch={etagOf(live)}
          />
        )}
      </td>
    </tr>
  );
}

function DiffOf(props: { readonly diff: VersionDiff; readonly version: number }) {
  const { diff } = props;
  if (diff.kind === "first") return <span class="muted">the first version</span>;
  if (diff.kind === "unreadable") return <span class="muted">{diff.reason}</span>;
  if (diff.changes.length === 0) return <span class="muted">no change</span>;
  const count = diff.changes.length;
  return (
    <details class="diff">
      <summary>
        {count === 1 ? "1 change" : `${count} changes`}
        <span class="visually-hidden">{` in version ${props.version}`}</span>
      </summary>
      <ul>
        {diff.changes.map((change) => (
          <li key={change.path} class={`diff-${change.op}`}>
            <code>{change.path || "(the whole config)"}</code> {change.op}{" "}
            {change.op === "added" ? null : <code class="before">{shown(change.before)}</code>}
            {change.op === "changed" ? " → " : null}
            {change.op === "removed" ? null : <code class="after">{shown(change.after)}</code>}
          </li>
        ))}
      </ul>
    </details>
  );
}

function AuditTrail(props: { readonly entries: readonly AuditEntry[] }) {
  return (
    <>
      <h2 id="audit-title">Audit trail</h2>
      <p class="muted small">
        Every admin write: config changes, API keys, breaker and limiter resets. Newest first.
      </p>
      <div class="table-wrap">
        <table class="audit">
          <caption class="visually-hidden">The latest admin writes, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">By</th>
              <th scope="col">Role</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Version</th>
            </tr>
          </thead>
          <tbody>
            {props.entries.map((entry) => (
              <tr key={`${entry.at} ${entry.action} ${entry.target}`}>
                <td>{formatTime(entry.at)}</td>
                <td>{entry.by}</td>
                <td>{entry.role ?? UNKNOWN}</td>
                <td>
                  {entry.action}
                  {entry.reason ? <span class="reason block">{entry.reason}</span> : null}
                </td>
                <td class="target">{entry.target}</td>
                <td>{entry.version ?? UNKNOWN}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.entries.length === 0 ? <p class="muted">No admin write yet.</p> : null}
    </>
  );
}

/** Each version's changes against the version before it, in the order given. */
async function diffsOf(
  live: LiveConfig,
  versions: readonly VersionInfo[],
): Promise<VersionDiff[]> {
  const models = new Map<number, JsonObject | string>();
  const modelOf = async (version: number) => {
    let model = models.get(version);
    if (model === undefined) {
      model = await readModel(live, version);
      models.set(version, model);
    }
    return model;
  };
  const diffs: VersionDiff[] = [];
  for (const info of versions) {
    if (info.version === 1) {
      diffs.push({ kind: "first" });
      continue;
    }
    const [before, after] = [await modelOf(info.version - 1), await modelOf(info.version)];
    if (typeof before === "string") diffs.push({ kind: "unreadable", reason: before });
    else if (typeof after === "string") diffs.push({ kind: "unreadable", reason: after });
    else diffs.push({ kind: "changes", changes: diffConfigs(before, after) });
  }
  return diffs;
}

/** A version's model section, or why it cannot be read. */
async function readModel(live: LiveConfig, version: number): Promise<JsonObject | string> {
  try {
    const stored = await live.store.get(version);
    return stored?.config.model ?? `version ${version} is no longer kept`;
  } catch (error) {
    if (error instanceof UnsealError) return `version ${version} is sealed with another key`;
    throw error;
  }
}

/** A value of a diff as JSON, cut to a readable length. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? "null";
  return text.length > VALUE_CHARS ? `${text.slice(0, VALUE_CHARS - 1)}…` : text;
}
