// GET …/models: the `provider:model` ids this caller can actually reach on this proxy, in
// OpenAI's list shape, so `client.models.list()` works.

import type { FastifyReply } from 'fastify';
import { usableKeysByProvider } from '../../keys/resolve-provider-key.js';
import { getProviderAdapter } from '../../providers/registry.js';
import type { RouterCall } from '../http/router-call.js';
import type { RouterContext } from '../router-context.js';

export async function handleListModels(router: RouterContext, call: RouterCall, reply: FastifyReply) {
  const byProvider = await usableKeysByProvider(router.keys, call.caller.organizationId, call.caller.keyCaller);
  const lists = await Promise.all(
    [...byProvider].map(async ([provider, keys]) => {
      const adapter = getProviderAdapter(provider);
      if (!adapter) return [];
      const models = await router.modelLists.models(adapter, keys[0]!);
      return models.map((model) => ({ id: `${provider}:${model}`, object: 'model' as const, created: 0, owned_by: provider }));
    }),
  );
  const data = lists.flat().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  call.meter.finish(200, 'ok');
  return reply.send({ object: 'list', data });
}
