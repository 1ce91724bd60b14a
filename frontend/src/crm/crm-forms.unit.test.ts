import { describe, expect, test } from 'bun:test';
import { CreateCustomerSchema } from '../../../core/crm/customer-create.ts';
import { CreateOrderSchema } from '../../../core/crm/order-create.ts';
import { RegisterProsthesisSchema } from '../../../core/crm/prosthesis-register.ts';
import { checkForm, customerChanges, customerFormSchema, newCustomerBody, newCustomerFormSchema, orderBody, orderFormSchema, prosthesisBody, prosthesisFormSchema } from './crm-forms.ts';

const ID = '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b';

describe('operator forms', () => {
  test('each bad field gets its own problem code; good values parse', () => {
    expect(checkForm(newCustomerFormSchema, { username: 'ivan petrov', full_name: ' ', email: 'ivan@', phone: 'call me' })).toEqual({
      ok: false,
      problems: { username: 'username', full_name: 'required', email: 'email', phone: 'phone' },
    });
    expect(checkForm(customerFormSchema, { full_name: ' Иван Петров ', email: 'ivan@ru.example', phone: '' })).toEqual({
      ok: true,
      data: { full_name: 'Иван Петров', email: 'ivan@ru.example', phone: null },
    });
    expect(checkForm(orderFormSchema, { model_id: '', amount: '12.345', currency: 'rub' })).toEqual({ ok: false, problems: { model_id: 'choose', amount: 'amount', currency: 'currency' } });
    expect(checkForm(prosthesisFormSchema, { chip_id: 'X1', serial_number: 'S', model_id: ID })).toEqual({ ok: false, problems: { chip_id: 'chip' } });
  });

  // The browser's verdict must be core's: a form the app passes is a body core accepts, and the
  // app never blocks a value core would take.
  const verdicts: Array<[string, Record<string, string>, 'ok' | 'bad']> = [
    ['customer', { username: 'ivan.petrov', full_name: 'Иван', email: 'i@ru.example', phone: '+7 495 123-45-67' }, 'ok'],
    ['customer', { username: 'ivan.petrov', full_name: 'Иван', email: 'i@ru.example', phone: '' }, 'ok'],
    ['customer', { username: 'ivan/petrov', full_name: 'Иван', email: 'i@ru.example', phone: '' }, 'bad'],
    ['customer', { username: 'ivan', full_name: 'x'.repeat(201), email: 'i@ru.example', phone: '' }, 'bad'],
    ['customer', { username: 'ivan', full_name: 'Иван', email: 'i at ru', phone: '' }, 'bad'],
    ['customer', { username: 'ivan', full_name: 'Иван', email: 'i@ru.example', phone: '12' }, 'bad'],
    ['order', { model_id: ID, amount: '125000.00', currency: 'RUB' }, 'ok'],
    ['order', { model_id: ID, amount: '0', currency: 'EUR' }, 'ok'],
    ['order', { model_id: ID, amount: '-1', currency: 'EUR' }, 'bad'],
    ['order', { model_id: ID, amount: '12345678901', currency: 'EUR' }, 'bad'],
    ['order', { model_id: ID, amount: '10', currency: 'EURO' }, 'bad'],
    ['prosthesis', { chip_id: 'CHIP-RU-0001', serial_number: 'BH-X2-000123', model_id: ID }, 'ok'],
    ['prosthesis', { chip_id: 'CHIP RU', serial_number: 'BH', model_id: ID }, 'bad'],
    ['prosthesis', { chip_id: 'CHIP-RU-0001', serial_number: 'x'.repeat(65), model_id: ID }, 'bad'],
  ];
  test.each(verdicts)('%s %j: the app and core agree (%s)', (form, values, expected) => {
    const app =
      form === 'customer'
        ? checkForm(newCustomerFormSchema, values)
        : form === 'order'
          ? checkForm(orderFormSchema, values)
          : checkForm(prosthesisFormSchema, values);
    expect(app.ok ? 'ok' : 'bad').toBe(expected);
    if (!app.ok) return;
    const body =
      form === 'customer'
        ? CreateCustomerSchema.safeParse(newCustomerBody(app.data as never))
        : form === 'order'
          ? CreateOrderSchema.safeParse(orderBody(app.data as never, ID))
          : RegisterProsthesisSchema.safeParse(prosthesisBody(app.data as never, ID));
    expect(body.success).toBe(true);
  });

  test('an edit sends only what changed; an emptied phone is null (core clears it)', () => {
    const before = { full_name: 'Иван Петров', email: 'i@ru.example', phone: '+7 495 1' };
    expect(customerChanges(before, { ...before })).toBeNull();
    expect(customerChanges(before, { ...before, phone: null })).toEqual({ phone: null });
    expect(customerChanges(before, { full_name: 'Иван П.', email: 'i@ru.example', phone: '+7 495 1' })).toEqual({ full_name: 'Иван П.' });
  });
});
