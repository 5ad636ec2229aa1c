/**
 * The field that says why the next change is made: the console sends it with that change as
 * `X-Change-Reason`, and the config version and the audit trail keep it.
 * @module
 */
import { MAX_CHANGE_REASON } from "../admin/change_reason.ts";
import { Field } from "./field.tsx";

/** A labelled text field for the reason of the next change; not part of any form. */
export function ChangeReasonField() {
  return (
    <div class="change-reason">
      <Field id="change-reason" label="Why (kept with the next change you make here)">
        <input
          id="change-reason"
          data-change-reason
          maxlength={MAX_CHANGE_REASON}
          placeholder="e.g. GPU 1 reboots at 14:00"
          autocomplete="off"
        />
      </Field>
    </div>
  );
}
