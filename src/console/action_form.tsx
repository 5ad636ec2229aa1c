/**
 * A form that makes one admin API call with its fields, its controls disabled together (saying
 * why) for an admin whose role may not make it. The console's script sends the call and shows
 * its answer.
 * @module
 */
import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { GatewayEnv } from "../gateway_env.ts";
import { refusalOf } from "./view.ts";

/** What {@linkcode ActionForm} calls, and how it reads. */
export interface ActionFormProps {
  readonly c: Context<GatewayEnv>;
  /** `POST`, `PUT`, `PATCH` or `DELETE`. */
  readonly method: string;
  /** The admin API path it calls; `{field}` takes that field's value. */
  readonly url: string;
  /** The path whose role it needs, when `url` has fields in it. @default url */
  readonly path?: string;
  /** The id of the heading that names it, or else its name. */
  readonly labelledBy?: string;
  readonly label?: string;
  /** What the console says once it is done. */
  readonly done: string;
  /** The config version it was shown at, sent as `If-Match`. */
  readonly ifMatch?: string;
  /** The field of the answer to show once (a new key). */
  readonly reveal?: string;
  /** The submit button's text. */
  readonly submit: string;
  /** Its fields. */
  readonly children: Child;
}

/** A form bound to an admin API call. */
export function ActionForm(props: ActionFormProps) {
  const refusal = refusalOf(props.c, props.method, props.path ?? props.url);
  return (
    <form
      class="inline"
      aria-labelledby={props.labelledBy}
      aria-label={props.label}
      data-url={props.url}
      data-method={props.method}
      data-if-match={props.ifMatch}
      data-reveal={props.reveal}
      data-done={props.done}
      title={refusal}
    >
      <fieldset class="controls" disabled={refusal !== undefined}>
        {props.children}
        <button type="submit" disabled={refusal !== undefined} title={refusal}>
          {props.submit}
        </button>
      </fieldset>
    </form>
  );
}
