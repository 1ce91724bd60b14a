import { z } from 'zod';
import type { CreateCustomerBody, CreateOrderBody, EditCustomerBody, RegisterProsthesisBody } from './crm-api.ts';

/**
 * The operator's forms, checked in the browser before anything is sent, with the rules core's
 * request schemas apply (core/crm/*.ts; a unit test runs both on the same inputs). Core stays
 * the judge: what only it can see (a taken username, a refused transition) comes back as 422/409
 * and is shown by the same fields. Messages here are codes; the page words them in its language.
 * `zod` itself, not `@hono/zod-openapi`, so the operator chunk does not carry the OpenAPI generator.
 */

export type Problem = 'required' | 'tooLong' | 'email' | 'phone' | 'username' | 'chip' | 'amount' | 'currency' | 'choose';

const USERNAME_RE = /^[A-Za-z0-9._-]{1,64}$/;
const CHIP_ID_RE = /^[A-Za-z0-9_-]{4,64}$/;
const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const PHONE_RE = /^\+?[0-9][0-9 ()-]{3,30}$/;
const AMOUNT_RE = /^\d{1,10}(\.\d{1,2})?$/;

const problem = (code: Problem) => ({ message: code });
const text = (max: number) => z.string().trim().min(1, problem('required')).max(max, problem('tooLong'));
const email = z.string().trim().min(1, problem('required')).max(254, problem('tooLong')).regex(EMAIL_RE, problem('email'));
/** An empty phone field means "no phone": null (edit clears it, create leaves it out). */
const phone = z
  .string()
  .trim()
  .transform((value) => (value === '' ? null : value))
  .pipe(z.string().regex(PHONE_RE, problem('phone')).nullable());
const choice = z.string().min(1, problem('choose'));

export const customerFormSchema = z.object({ full_name: text(200), email, phone });
export const newCustomerFormSchema = customerFormSchema.extend({ username: z.string().trim().regex(USERNAME_RE, problem('username')) });
export const prosthesisFormSchema = z.object({
  chip_id: z.string().trim().regex(CHIP_ID_RE, problem('chip')),
  serial_number: text(64),
  model_id: choice,
});
export const orderFormSchema = z.object({
  model_id: choice,
  amount: z.string().trim().regex(AMOUNT_RE, problem('amount')),
  currency: z.string().trim().regex(/^[A-Z]{3}$/, problem('currency')),
});

export type FormValues<S extends z.ZodType> = { [K in keyof z.input<S>]: string };
export type FieldProblems = Partial<Record<string, Problem>>;
export type Checked<S extends z.ZodType> = { ok: true; data: z.output<S> } | { ok: false; problems: FieldProblems };

/** The form's values checked: the parsed body, or the first problem of each field. */
export function checkForm<S extends z.ZodType>(schema: S, values: unknown): Checked<S> {
  const result = schema.safeParse(values);
  if (result.success) return { ok: true, data: result.data };
  const problems: FieldProblems = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? '');
    problems[field] ??= issue.message as Problem;
  }
  return { ok: false, problems };
}

/** An edit sends only what changed; nothing changed is nothing to send. */
export function customerChanges(before: { full_name: string; email: string; phone: string | null }, after: z.output<typeof customerFormSchema>): EditCustomerBody | null {
  const changes: EditCustomerBody = {};
  if (after.full_name !== before.full_name) changes.full_name = after.full_name;
  if (after.email !== before.email) changes.email = after.email;
  if (after.phone !== before.phone) changes.phone = after.phone;
  return Object.keys(changes).length > 0 ? changes : null;
}

export function newCustomerBody(data: z.output<typeof newCustomerFormSchema>): CreateCustomerBody {
  return { username: data.username, full_name: data.full_name, email: data.email, ...(data.phone === null ? {} : { phone: data.phone }) };
}

export function prosthesisBody(data: z.output<typeof prosthesisFormSchema>, customerId: string): RegisterProsthesisBody {
  return { ...data, customer_id: customerId };
}

export function orderBody(data: z.output<typeof orderFormSchema>, customerId: string): CreateOrderBody {
  return { ...data, customer_id: customerId };
}

/** The currency a region's orders are usually in (the form preselects it; the operator may change it). */
export function defaultCurrency(region: string): string {
  return region === 'eu' ? 'EUR' : 'RUB';
}
