// Form fields that carry their label, hint and error with them, wired for
// screen readers (aria-invalid, aria-describedby) so every form reads the same.
import { useId, type ChangeEvent, type ReactNode } from "react";

interface Common {
  label: string;
  hint?: ReactNode;
  error?: string;
  disabled?: boolean;
}

function Help({ id, hint, error }: { id: string; hint?: ReactNode; error?: string }) {
  return (
    <>
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </>
  );
}

function describedBy(id: string, hint?: ReactNode, error?: string): string | undefined {
  const ids = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return ids || undefined;
}

export function TextField(
  props: Common & {
    value: string;
    onChange: (v: string) => void;
    type?: "text" | "email" | "password" | "number" | "url";
    autoComplete?: string;
    required?: boolean;
    placeholder?: string;
    inputMode?: "numeric" | "text" | "email";
  },
) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>
        {props.label}
        {props.required ? <span aria-hidden="true"> *</span> : null}
      </label>
      <input
        id={id}
        type={props.type ?? "text"}
        value={props.value}
        onChange={(e: ChangeEvent<HTMLInputElement>) => props.onChange(e.target.value)}
        autoComplete={props.autoComplete}
        required={props.required}
        placeholder={props.placeholder}
        inputMode={props.inputMode}
        disabled={props.disabled}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy(id, props.hint, props.error)}
      />
      <Help id={id} hint={props.hint} error={props.error} />
    </div>
  );
}

export function TextAreaField(
  props: Common & { value: string; onChange: (v: string) => void; rows?: number; mono?: boolean; readOnly?: boolean },
) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <textarea
        id={id}
        rows={props.rows ?? 4}
        className={props.mono ? "mono" : undefined}
        value={props.value}
        readOnly={props.readOnly}
        onChange={(e) => props.onChange(e.target.value)}
        disabled={props.disabled}
        spellCheck={props.mono ? false : undefined}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy(id, props.hint, props.error)}
      />
      <Help id={id} hint={props.hint} error={props.error} />
    </div>
  );
}

export function CheckboxField(props: Common & { checked: boolean; onChange: (v: boolean) => void }) {
  const id = useId();
  return (
    <div className="field checkbox">
      <input
        id={id}
        type="checkbox"
        checked={props.checked}
        onChange={(e) => props.onChange(e.target.checked)}
        disabled={props.disabled}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy(id, props.hint, props.error)}
      />
      <label htmlFor={id}>{props.label}</label>
      <Help id={id} hint={props.hint} error={props.error} />
    </div>
  );
}

export function SelectField<T extends string | number>(
  props: Common & {
    value: T;
    onChange: (v: T) => void;
    options: { value: T; label: string }[];
    /** Keep the label for screen readers only (a select in a table row, whose column header says what it is). */
    hideLabel?: boolean;
  },
) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id} className={props.hideLabel ? "offscreen" : undefined}>
        {props.label}
      </label>
      <select
        id={id}
        value={String(props.value)}
        onChange={(e) => {
          const picked = props.options.find((o) => String(o.value) === e.target.value);
          if (picked) props.onChange(picked.value);
        }}
        disabled={props.disabled}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy(id, props.hint, props.error)}
      >
        {props.options.map((o) => (
          <option key={String(o.value)} value={String(o.value)}>
            {o.label}
          </option>
        ))}
      </select>
      <Help id={id} hint={props.hint} error={props.error} />
    </div>
  );
}
