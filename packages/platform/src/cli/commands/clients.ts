import { operatorActor } from '../../accounts/actors.js';
import { createClientAs, disableClientAs, rotateClientSecretAs } from '../../oauth/client-management.js';
import { type AdminCommand, UsageError, list, str } from '../command.js';

export const clientCreate: AdminCommand = {
  name: 'client create',
  usage: 'keyward client create --name N --proxy ID [--proxy ID]... [--key ID]...',
  options: { name: { type: 'string' }, proxy: { type: 'string', multiple: true }, key: { type: 'string', multiple: true } },
  required: ['name', 'proxy'],
  async run(ctx, flags) {
    const proxyIds = list(flags, 'proxy');
    const keyIds = list(flags, 'key');
    // An empty --key (an unset shell variable) must not quietly widen the client to every org key.
    if (keyIds.includes('')) throw new UsageError('--key needs a provider key id');
    return createClientAs(ctx, await operatorActor(ctx.db), { name: str(flags, 'name')!, proxyIds, keyIds });
  },
  text: (r) => `client_id:     ${String(r.client_id)}\nclient_secret: ${String(r.client_secret)}\n(the secret is shown only now; store it safely)`,
};

export const clientRotateSecret: AdminCommand = {
  name: 'client rotate-secret',
  usage: 'keyward client rotate-secret --client ID',
  options: { client: { type: 'string' } },
  required: ['client'],
  run: async (ctx, flags) => rotateClientSecretAs(ctx, await operatorActor(ctx.db), str(flags, 'client')!),
  text: (r) => `client_id:     ${String(r.client_id)}\nclient_secret: ${String(r.client_secret)}\n(the old secret no longer works)`,
};

export const clientDisable: AdminCommand = {
  name: 'client disable',
  usage: 'keyward client disable --client ID',
  options: { client: { type: 'string' } },
  required: ['client'],
  run: async (ctx, flags) => disableClientAs(ctx, await operatorActor(ctx.db), str(flags, 'client')!),
  text: (r) => `disabled client ${String(r.client_id)}; its tokens stop working within seconds`,
};
