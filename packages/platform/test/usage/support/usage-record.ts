// One metered call as the router records it, with plain defaults: tests override what they check.

import { randomUUID } from 'node:crypto';
import type { UsageRecord } from '../../../src/usage/usage-record.js';

export function usageRecord(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    id: randomUUID(),
    requestId: `req-${randomUUID()}`,
    createdAt: Date.now(),
    principalKind: 'user',
    userId: null,
    clientId: null,
    organizationId: null,
    proxyId: null,
    endpoint: 'chat',
    inboundFormat: 'openai_chat',
    provider: 'openai',
    model: 'gpt-4o-mini',
    keyId: null,
    stream: false,
    inputTokens: 10,
    outputTokens: 5,
    cachedTokens: null,
    reasoningTokens: null,
    cacheWriteTokens: null,
    webSearchRequests: null,
    costNanoUsd: null,
    unpriced: false,
    latencyMs: 120,
    timeToFirstTokenMs: null,
    status: 200,
    outcome: 'ok',
    errorMessage: null,
    ...overrides,
  };
}
