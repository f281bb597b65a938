import { describe, expect, it } from 'vitest';
import type { OwnerScope } from '../db/schema.js';
import { rankProviderKeys, type UsableProviderKey } from './resolve-provider-key.js';

const key = (id: string, scope: OwnerScope, owner: { userId?: string; teamId?: string } = {}): UsableProviderKey => ({
  id,
  organizationId: 'org',
  provider: 'openai',
  scope,
  teamId: owner.teamId ?? null,
  userId: owner.userId ?? null,
  isPrimary: false,
  createdAt: 1,
  baseUrl: 'https://api.openai.com/v1',
  options: undefined,
  apiKey: `sk-${id}`,
  baseUrlPolicy: 'any',
  publicAddressesOnly: false,
});

describe('the keys a confidential client may use', () => {
  const keys = [key('fay-own', 'personal', { userId: 'fay' }), key('team-key', 'team', { teamId: 'blue' }), key('org-key', 'org')];

  it('are the keys it was given, org and team alike', () => {
    expect(rankProviderKeys(keys, 'openai', { kind: 'client', keyIds: ['team-key'] }).map((k) => k.id)).toEqual(['team-key']);
    expect(rankProviderKeys(keys, 'openai', { kind: 'client', keyIds: null }).map((k) => k.id)).toEqual(['org-key']);
  });

  it("never a person's own key, even one it was bound to before that was refused", () => {
    expect(rankProviderKeys(keys, 'openai', { kind: 'client', keyIds: ['fay-own'] })).toEqual([]);
    expect(rankProviderKeys(keys, 'openai', { kind: 'client', keyIds: ['fay-own', 'org-key'] }).map((k) => k.id)).toEqual(['org-key']);
  });
});
