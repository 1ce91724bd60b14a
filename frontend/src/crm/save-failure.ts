import { ApiFailure } from '../http/request.ts';

/**
 * What a refused save means for the form that sent it. Core's answers (docs/core.md, "CRM
 * operator API"): 412 — someone else saved the record since it was read; 422 — `details` lists
 * `{path, message}` per field (or, for an order, the transition and the allowed statuses); 409 —
 * a unique value (`details.field`) is taken; 404 — not in the operator's region (or gone).
 * Anything else is an ordinary failure (network, 503, a bug) shown with its reference.
 */
export type SaveFailure =
  | { kind: 'stale' }
  | { kind: 'invalid'; fields: Record<string, string>; general: string[] }
  | { kind: 'taken'; field: string }
  | { kind: 'not-found' }
  | { kind: 'other'; error: unknown };

interface FieldReason {
  path: string;
  message: string;
}

function isFieldReason(value: unknown): value is FieldReason {
  return typeof value === 'object' && value !== null && typeof (value as FieldReason).path === 'string' && typeof (value as FieldReason).message === 'string';
}

export function describeSaveFailure(error: unknown): SaveFailure {
  if (!(error instanceof ApiFailure) || error.kind !== 'http') return { kind: 'other', error };
  if (error.status === 412) return { kind: 'stale' };
  if (error.status === 404) return { kind: 'not-found' };
  const details = error.details as Record<string, unknown> | unknown[] | undefined;
  if (error.status === 409 && details && !Array.isArray(details) && typeof details.field === 'string') return { kind: 'taken', field: details.field };
  if (error.status === 422) {
    const fields: Record<string, string> = {};
    const general: string[] = [];
    if (Array.isArray(details)) {
      for (const reason of details.filter(isFieldReason)) {
        // The first reason per field is the one to fix first; a reason without a path is the form's.
        if (!reason.path) general.push(reason.message);
        else fields[reason.path] ??= reason.message;
      }
    }
    if (Object.keys(fields).length === 0 && general.length === 0) general.push(error.message);
    return { kind: 'invalid', fields, general };
  }
  return { kind: 'other', error };
}
