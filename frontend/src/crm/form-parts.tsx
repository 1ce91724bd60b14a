import { useState, type ChangeEvent, type InputHTMLAttributes, type ReactNode } from 'react';
import { ApiFailure } from '../http/request.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { checkForm, type FieldProblems } from './crm-forms.ts';
import { useCrmMessages } from './crm-messages.ts';
import { describeSaveFailure, type SaveFailure } from './save-failure.ts';
import type { z } from 'zod';

/**
 * The pieces every operator form shares: values as strings, the browser's check before sending,
 * the server's refusal after, and both shown next to the fields they concern.
 */
export function useCrmForm<S extends z.ZodType>(schema: S, initial: Record<string, string>) {
  const [values, setValues] = useState(initial);
  const [problems, setProblems] = useState<FieldProblems>({});
  const [failure, setFailure] = useState<SaveFailure | null>(null);
  const m = useCrmMessages();

  const bind = (field: string) => ({
    value: values[field] ?? '',
    onChange: (event: ChangeEvent<HTMLInputElement | HTMLSelectElement>) => {
      setValues((current) => ({ ...current, [field]: event.target.value }));
      setProblems((current) => ({ ...current, [field]: undefined }));
    },
  });
  const errorOf = (field: string): string | undefined => {
    const problem = problems[field];
    if (problem) return m.problems[problem];
    if (failure?.kind === 'invalid') return failure.fields[field];
    if (failure?.kind === 'taken' && failure.field === field) return m.takenField(field);
    return undefined;
  };
  /** The parsed body, or undefined after marking the fields to fix. */
  const check = () => {
    setFailure(null);
    const checked = checkForm(schema, values);
    if (checked.ok) {
      setProblems({});
      return checked.data;
    }
    setProblems(checked.problems);
    return undefined;
  };
  const refused = (error: unknown) => setFailure(describeSaveFailure(error));
  return { values, setValues, bind, errorOf, check, failure, refused, reset: () => (setValues(initial), setProblems({}), setFailure(null)) };
}

type FieldProps = { id: string; label: string; error?: string; hint?: string } & InputHTMLAttributes<HTMLInputElement>;

export function TextField({ id, label, error, hint, ...input }: FieldProps) {
  const described = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} name={id} aria-invalid={error ? true : undefined} aria-describedby={described} {...input} />
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : hint ? (
        <p id={`${id}-hint`} className="muted small">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

export function SelectField({ id, label, error, value, onChange, children }: { id: string; label: string; error?: string; value: string; onChange: (event: ChangeEvent<HTMLSelectElement>) => void; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={id} value={value} onChange={onChange} aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : undefined}>
        {children}
      </select>
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/**
 * A refused save in words: a lost update (412) offers a reload of the record, never a resend;
 * reasons that name no field of this form are listed here.
 */
export function SaveProblem({ failure, onReload, fields }: { failure: SaveFailure | null; onReload: () => void; fields: readonly string[] }) {
  const m = useCrmMessages();
  const { t } = useI18n();
  if (!failure) return null;
  if (failure.kind === 'stale') {
    return (
      <div className="banner banner--error" role="alert" data-testid="stale">
        <strong>{m.staleTitle}.</strong> {m.staleLead}{' '}
        <button type="button" className="button button--small" onClick={onReload}>
          {m.reload}
        </button>
      </div>
    );
  }
  if (failure.kind === 'not-found') return <p className="banner banner--error" role="alert">{m.notFoundRecord}</p>;
  if (failure.kind === 'taken') return fields.includes(failure.field) ? null : <p className="banner banner--error" role="alert">{m.takenField(failure.field)}</p>;
  if (failure.kind === 'invalid') {
    const elsewhere = [...failure.general, ...Object.entries(failure.fields).filter(([field]) => !fields.includes(field)).map(([field, message]) => `${field}: ${message}`)];
    if (elsewhere.length === 0) return <p className="visually-hidden" role="alert">{m.serverSaid}</p>;
    return (
      <div className="banner banner--error" role="alert" data-testid="save-refused">
        {m.serverSaid}
        <ul>
          {elsewhere.map((reason) => (
            <li key={reason}>{reason}</li>
          ))}
        </ul>
      </div>
    );
  }
  const requestId = failure.error instanceof ApiFailure ? failure.error.requestId : undefined;
  return (
    <p className="banner banner--error" role="alert">
      {m.saveFailed} {requestId ? t.requestId(requestId) : null}
    </p>
  );
}
