import { describe, expect, test } from 'bun:test';
import { loadConnectorConfig, newlyExcludedColumns, newlyIncludedTables } from '../../stack/services/kafka-connect.ts';

describe('crm-connector config', () => {
  test('keeps every direct identifier of a customer in the CRM, the username too (the owner ref replaces it)', () => {
    const excluded = (loadConnectorConfig()['column.exclude.list'] ?? '').split(',');
    expect(excluded.sort()).toEqual(['crm.customers.email', 'crm.customers.full_name', 'crm.customers.phone', 'crm.customers.username']);
  });

  test('a grown exclude list names the columns the topics may still hold; an equal or smaller one names none', () => {
    const old = { 'column.exclude.list': 'crm.customers.phone' };
    const desired = { 'column.exclude.list': 'crm.customers.full_name, crm.customers.phone,crm.customers.email' };
    expect(newlyExcludedColumns({}, desired)).toEqual(['crm.customers.full_name', 'crm.customers.phone', 'crm.customers.email']);
    expect(newlyExcludedColumns(old, desired)).toEqual(['crm.customers.full_name', 'crm.customers.email']);
    expect(newlyExcludedColumns(desired, desired)).toEqual([]);
    expect(newlyExcludedColumns(desired, old)).toEqual([]);
  });

  test('streams the assignment history; a grown table list names the tables to snapshot', () => {
    expect((loadConnectorConfig()['table.include.list'] ?? '').split(',')).toContain('crm.prosthesis_assignments');
    const old = { 'table.include.list': 'crm.customers,crm.prostheses' };
    const desired = { 'table.include.list': 'crm.customers, crm.prostheses,crm.prosthesis_assignments' };
    expect(newlyIncludedTables(old, desired)).toEqual(['crm.prosthesis_assignments']);
    expect(newlyIncludedTables(desired, desired)).toEqual([]);
    expect(newlyIncludedTables(desired, old)).toEqual([]);
  });
});
