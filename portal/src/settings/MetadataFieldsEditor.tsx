// Editing a list of metadata fields (the claims an app's users carry): one
// row per field with path, name, type, required and user-editable.
import { create } from "@bufbuild/protobuf";
import { MetadataFieldSchema, MetadataFieldType, type MetadataField } from "@gen/cosync/auth/v1/types_pb";
import { CheckboxField, SelectField, TextField } from "../ui/fields";

const types = [
  { value: MetadataFieldType.STRING, label: "Text" },
  { value: MetadataFieldType.NUMBER, label: "Number" },
  { value: MetadataFieldType.BOOL, label: "Yes/no" },
];

export function MetadataFieldsEditor(props: {
  legend: string;
  fields: MetadataField[];
  onChange: (f: MetadataField[]) => void;
  /** Violations keyed by "[i].path" etc. (the part after the list's own path). */
  errors: Record<string, string>;
  disabled?: boolean;
}) {
  const { fields, onChange, errors } = props;
  const set = (i: number, patch: Partial<MetadataField>) => onChange(fields.map((f, j) => (j === i ? { ...f, ...patch } : f)));
  return (
    <fieldset className="metadata-fields">
      <legend>{props.legend}</legend>
      {fields.length === 0 ? <p className="hint">No fields. Add one to ask users for a value that goes into their token.</p> : null}
      {fields.map((f, i) => (
        <div className="metadata-row" key={i} role="group" aria-label={`Field ${i + 1}`}>
          <TextField
            label="Path in the token"
            value={f.path}
            onChange={(v) => set(i, { path: v })}
            error={errors[`[${i}].path`]}
            hint="Dotted names, e.g. user_data.plan"
            disabled={props.disabled}
          />
          <TextField label="Name shown to users" value={f.name} onChange={(v) => set(i, { name: v })} disabled={props.disabled} />
          <SelectField label="Type" value={f.type} onChange={(v) => set(i, { type: v })} options={types} error={errors[`[${i}].type`]} disabled={props.disabled} />
          <CheckboxField label="Required" checked={f.required} onChange={(v) => set(i, { required: v })} disabled={props.disabled} />
          <CheckboxField label="User may edit" checked={f.userEditable} onChange={(v) => set(i, { userEditable: v })} disabled={props.disabled} />
          <button type="button" className="secondary small" onClick={() => onChange(fields.filter((_, j) => j !== i))} disabled={props.disabled}>
            Remove field {i + 1}
          </button>
        </div>
      ))}
      <button
        type="button"
        className="secondary"
        disabled={props.disabled}
        onClick={() => onChange([...fields, create(MetadataFieldSchema, { type: MetadataFieldType.STRING })])}
      >
        Add a field
      </button>
    </fieldset>
  );
}
