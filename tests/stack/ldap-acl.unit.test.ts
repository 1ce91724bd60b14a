import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../tools/kit/paths.ts';
import { accessRules } from '../../stack/services/ldap.ts';

const template = readFileSync(join(ROOT, 'stack/config/ldap/slapd.conf.template'), 'utf8');
const rules = accessRules(template, { SUFFIX: 'dc=eu,dc=bionicpro,dc=local', READER_DN: 'cn=keycloak-reader,dc=eu,dc=bionicpro,dc=local' });

describe('LDAP access rules (one template for slapd.conf and cn=config)', () => {
  test('become ordered olcAccess values with the placeholders filled', () => {
    expect(rules[0]).toBe('{0}to attrs=userPassword by anonymous auth by * none');
    expect(rules).toContain('{3}to dn.subtree="ou=people,dc=eu,dc=bionicpro,dc=local" by dn.exact="cn=keycloak-reader,dc=eu,dc=bionicpro,dc=local" read by self read by * none');
    expect(rules.every((rule, i) => rule.startsWith(`{${i}}to `))).toBe(true);
    expect(rules.join('\n')).not.toContain('{{');
  });

  test('grant no write to anyone: only the root DN (outside the rules) writes', () => {
    for (const rule of rules) {
      const grants = rule.split(/\sby\s/).slice(1).map((by) => by.trim().split(/\s+/).at(-1)!);
      for (const level of grants) expect(['none', 'auth', 'compare', 'search', 'read', '=x', '=xc']).toContain(level);
    }
  });
});
