/**
 * A button that makes one admin API call when pressed, disabled (saying why) for an admin whose
 * role may not make it. The console's script sends the call and shows its answer.
 * @module
 */
import type { Context } from "hono";
import type { GatewayEnv } from "../gateway_env.ts";
import { refusalOf } from "./view.ts";

/** What {@linkcode ActionButton} calls, and how it reads. */
export interface ActionButtonProps {
  readonly c: Context<GatewayEnv>;
  /** `POST`, `PUT`, `PATCH` or `DELETE`. */
  readonly method: string;
  /** The admin API path it calls. */
  readonly path: string;
  /** The JSON body it sends, if any. */
  readonly body?: unknown;
  /** Its visible text. */
  readonly label: string;
  /** What it does, for screen readers and the tooltip, when the label alone is ambiguous. */
  readonly description?: string;
  /** A question to confirm before calling, for what cannot be undone. */
  readonly confirm?: string;
  /** What the console says once it is done; "Done." when not given. */
  readonly done?: string;
  /** The ETag of the config version it was rendered from, for a call that changes the config. */
  readonly ifMatch?: string;
  /** `danger` for removals and revocations. */
  readonly tone?: "danger";
}

/** A button bound to an admin API call. */
export function ActionButton(props: ActionButtonProps) {
  const refusal = refusalOf(props.c, props.method, props.path);
  return (
    <button
      type="button"
      class={props.tone === "danger" ? "danger" : undefined}
      data-method={props.method}
      data-url={props.path}
      data-body={props.body === undefined ? undefined : JSON.stringify(props.body)}
      data-confirm={props.confirm}
      data-if-match={props.ifMatch}
      data-done={props.done}
      aria-label={props.description}
      title={refusal ?? props.description}
      disabled={refusal !== undefined}
    >
      {props.label}
    </button>
  );
}
