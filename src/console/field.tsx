/**
 * A labelled form field of the console's forms: the label names the control by `for`, so its
 * accessible name is the label's text alone, not the text of a select's options.
 * @module
 */
import type { Child } from "hono/jsx";

/** What {@linkcode Field} shows. */
export interface FieldProps {
  /** The control's `id`, unique in the page. */
  readonly id: string;
  readonly label: string;
  /** The control, with `id` set to the same `id`. */
  readonly children: Child;
}

/** A label above its control. */
export function Field(props: FieldProps) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
    </div>
  );
}
