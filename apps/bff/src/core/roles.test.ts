import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLE_MAP, noAccessReason, parseRoleMap, userFromClaims } from './roles.ts';

const map = parseRoleMap(DEFAULT_ROLE_MAP);

describe('roles from the ID token', () => {
  it('when the roles claim holds mapped app roles, then those Twinscope roles are granted and others ignored', () => {
    const user = userFromClaims(
      { oid: 'o-1', name: 'Ada', roles: ['Twinscope.Admin', 'Other.App', 'Twinscope.Reader', 7] },
      map,
    );
    expect(user).toMatchObject({
      id: 'o-1',
      name: 'Ada',
      roles: ['Admin', 'Reader'],
      groupsOverage: false,
    });
    expect(noAccessReason(user, map)).toBeUndefined();
  });

  it('when the claim is missing or maps to nothing, then there is no access and the reason says what to do', () => {
    for (const claims of [
      { sub: 's' },
      { sub: 's', roles: ['Other.App'] },
      { sub: 's', roles: 'Twinscope.Admin' },
    ]) {
      const user = userFromClaims(claims, map);
      expect(user.roles).toEqual([]);
      expect(noAccessReason(user, map)).toMatch(/no Twinscope app role.*Twinscope\.Reader/);
    }
  });

  it('when the token carries a groups overage, then it is detected and explained', () => {
    const user = userFromClaims(
      { oid: 'o', _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'x' } } },
      map,
    );
    expect(user.groupsOverage).toBe(true);
    expect(noAccessReason(user, map)).toMatch(/groups overage/);
  });

  it('when the mapping is configured wrongly, then parsing names the bad entry', () => {
    expect(() => parseRoleMap('Twinscope.Admin=Root')).toThrow(/"Twinscope.Admin=Root"/);
    expect(parseRoleMap('ops=Operator, viewers = Reader').get('viewers')).toBe('Reader');
  });
});
