import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicMessagesRequestSchema } from './schema.js';

let app: FastifyInstance;
beforeAll(async () => {
  // removeAdditional: false so unknown top-level fields are refused rather than silently stripped.
  app = Fastify({ ajv: { customOptions: { removeAdditional: false } } });
  app.post('/v1/messages', { schema: { body: anthropicMessagesRequestSchema } }, async () => ({ ok: true }));
  await app.ready();
});
afterAll(() => app.close());

const valid = { model: 'openai:gpt-4o', max_tokens: 1024, messages: [{ role: 'user', content: 'Hello, Claude' }] };

async function status(body: unknown): Promise<{ status: number; message: string }> {
  const response = await app.inject({ method: 'POST', url: '/v1/messages', payload: body as Record<string, unknown> });
  return { status: response.statusCode, message: (response.json() as { message?: string }).message ?? '' };
}

describe('the Messages request schema', () => {
  const accepted: Array<[string, Record<string, unknown>]> = [
    ['the minimal body', valid],
    [
      'every translated field',
      {
        ...valid,
        system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
        metadata: { user_id: 'u1' },
        stop_sequences: ['END'],
        stream: true,
        temperature: 0.7,
        top_p: 0.9,
        tools: [{ name: 'get_weather', description: 'd', input_schema: { type: 'object' } }],
        tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
        output_config: { effort: 'low', format: { type: 'json_schema', schema: { type: 'object' } } },
        service_tier: 'auto',
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'get_weather', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'ok' }] },
        ],
      },
    ],
    ['fields refused later by name still pass the schema', { ...valid, top_k: 5, thinking: { type: 'enabled', budget_tokens: 2048 } }],
    // The passthrough forwards it for Anthropic to judge; translation refuses it by name.
    ['an unknown top-level field', { ...valid, context_management: { edits: [] } }],
  ];
  for (const [name, body] of accepted) it(`accepts ${name}`, async () => expect(await status(body)).toEqual({ status: 200, message: "" }));

  const rejected: Array<[string, unknown, RegExp]> = [
    ['a missing model', { max_tokens: 1, messages: [] }, /model/],
    ['a missing max_tokens', { model: 'm', messages: [] }, /max_tokens/],
    ['missing messages', { model: 'm', max_tokens: 1 }, /messages/],
    ['temperature above 1', { ...valid, temperature: 1.5 }, /temperature/],
    ['a system role inside messages', { ...valid, messages: [{ role: 'system', content: 'x' }] }, /role/],
    ['tool_choice tool without a name', { ...valid, tool_choice: { type: 'tool' } }, /name/],
    ['max_tokens 0', { ...valid, max_tokens: 0 }, /max_tokens/],
  ];
  for (const [name, body, message] of rejected) {
    it(`rejects ${name}`, async () => {
      const result = await status(body);
      expect(result.status).toBe(400);
      expect(result.message).toMatch(message);
    });
  }
});
