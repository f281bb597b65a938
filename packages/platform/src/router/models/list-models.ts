// GET …/models and …/v1/models: the `provider:model` ids this caller can actually reach on this
// proxy, in OpenAI's list shape (`client.models.list()` of the OpenAI SDK) and in Anthropic's
// paginated one (`client.models.list()` of the Anthropic SDK, which appends /v1/models).

import type { FastifyReply, FastifyRequest } from 'fastify';
import { usableKeysByProvider } from '../../keys/resolve-provider-key.js';
import { allowedModels, proxyAllows } from '../../proxies/model-allow-list.js';
import { getProviderAdapter } from '../../providers/registry.js';
import type { RouterCall } from '../http/router-call.js';
import type { RouterContext } from '../router-context.js';
import { RouterError } from '../router-error.js';
import { sendAnswer } from '../http/send-answer.js';

export interface ReachableModel {
  /** `provider:model`, what the caller sends as `model`. */
  id: string;
  provider: string;
  providerName: string;
  model: string;
}

/** Every model of every provider the caller holds a key for, sorted by id. */
export async function reachableModels(router: RouterContext, call: RouterCall): Promise<ReachableModel[]> {
  const byProvider = await usableKeysByProvider(router.keys, call.caller.organizationId, call.caller.keyCaller);
  const allowList = allowedModels(call.caller.proxy);
  const lists = await Promise.all(
    [...byProvider].map(async ([provider, keys]) => {
      const adapter = getProviderAdapter(provider);
      if (!adapter) return [];
      const models = await router.modelLists.models(adapter, keys[0]!, call.signal);
      return models
        .filter((model) => proxyAllows(allowList, provider, model))
        .map((model) => ({ id: `${provider}:${model}`, provider, providerName: adapter.displayName, model }));
    }),
  );
  return lists.flat().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const openAIModel = (m: ReachableModel) => ({ id: m.id, object: 'model' as const, created: 0, owned_by: m.provider });
const anthropicModel = (m: ReachableModel) => ({ type: 'model' as const, id: m.id, display_name: `${m.model} (${m.providerName})`, created_at: new Date(0).toISOString() });

export async function handleListModels(router: RouterContext, call: RouterCall, _request: FastifyRequest, reply: FastifyReply) {
  const models = await reachableModels(router, call);
  return sendAnswer(reply, call.meter, { object: 'list', data: models.map(openAIModel) });
}

/** The model the path names (`…/models/openai:gpt-4o`, the id may hold `/`), if this caller can reach it. */
async function reachableModel(router: RouterContext, call: RouterCall, request: FastifyRequest): Promise<ReachableModel> {
  const id = (request.params as { '*'?: string })['*'] ?? '';
  const model = (await reachableModels(router, call)).find((m) => m.id === id);
  if (!model) throw RouterError.notFound(`The model '${id}' does not exist or you do not have access to it.`, 'model_not_found');
  return model;
}

/** GET …/models/{id}: the OpenAI SDK's `models.retrieve(id)`. */
export async function handleRetrieveModel(router: RouterContext, call: RouterCall, request: FastifyRequest, reply: FastifyReply) {
  const model = await reachableModel(router, call, request);
  return sendAnswer(reply, call.meter, openAIModel(model));
}

/** GET …/v1/models/{id}: the Anthropic SDK's `models.retrieve(id)`. */
export async function handleRetrieveAnthropicModel(router: RouterContext, call: RouterCall, request: FastifyRequest, reply: FastifyReply) {
  const model = await reachableModel(router, call, request);
  return sendAnswer(reply, call.meter, anthropicModel(model));
}

/** Anthropic's documented limits for `limit`: default 20, 1 to 1000. */
const ANTHROPIC_PAGE = { default: 20, max: 1000 };

function pageQuery(request: FastifyRequest): { limit: number; afterId?: string; beforeId?: string } {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const single = (name: string) => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw RouterError.invalid(`'${name}' must be given once.`, name);
    return value;
  };
  const limitText = single('limit');
  const limit = limitText === undefined ? ANTHROPIC_PAGE.default : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > ANTHROPIC_PAGE.max) {
    throw RouterError.invalid(`'limit' must be an integer from 1 to ${ANTHROPIC_PAGE.max}.`, 'limit');
  }
  const afterId = single('after_id');
  const beforeId = single('before_id');
  if (afterId !== undefined && beforeId !== undefined) throw RouterError.invalid("Send 'after_id' or 'before_id', not both.", 'before_id');
  return { limit, ...(afterId !== undefined ? { afterId } : {}), ...(beforeId !== undefined ? { beforeId } : {}) };
}

/** Anthropic's list: `{data:[{type,id,display_name,created_at}], has_more, first_id, last_id}`, paged by id cursors. */
export async function handleListAnthropicModels(router: RouterContext, call: RouterCall, request: FastifyRequest, reply: FastifyReply) {
  const { limit, afterId, beforeId } = pageQuery(request);
  const models = await reachableModels(router, call);
  let page: ReachableModel[];
  let hasMore: boolean;
  if (beforeId !== undefined) {
    const before = models.filter((m) => m.id < beforeId);
    page = before.slice(-limit);
    hasMore = before.length > limit;
  } else {
    const after = afterId === undefined ? models : models.filter((m) => m.id > afterId);
    page = after.slice(0, limit);
    hasMore = after.length > limit;
  }
  return sendAnswer(reply, call.meter, {
    data: page.map(anthropicModel),
    has_more: hasMore,
    first_id: page[0]?.id ?? null,
    last_id: page.at(-1)?.id ?? null,
  });
}
