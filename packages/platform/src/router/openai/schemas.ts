// JSON Schemas of the OpenAI-format request bodies, compiled by the router's strict ajv
// (no coercion, nothing removed): wrong types are refused, never silently fixed. Chat lets unknown
// top-level fields through: an OpenAI-wire provider judges them, a translated wire refuses them by
// name (router/policy/field-policy.ts). Adapters refuse what a provider cannot honour.

const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });

const textPart = {
  type: 'object',
  required: ['type', 'text'],
  properties: { type: { const: 'text' }, text: { type: 'string' } },
} as const;

const imagePart = {
  type: 'object',
  required: ['type', 'image_url'],
  properties: {
    type: { const: 'image_url' },
    image_url: {
      type: 'object',
      required: ['url'],
      properties: { url: { type: 'string', minLength: 1 }, detail: { enum: ['auto', 'low', 'high'] } },
    },
  },
} as const;

const filePart = {
  type: 'object',
  required: ['type', 'file'],
  properties: {
    type: { const: 'file' },
    file: { type: 'object', properties: { file_data: { type: 'string', minLength: 1 }, filename: { type: 'string' }, file_id: { type: 'string' } } },
  },
} as const;

const audioPart = {
  type: 'object',
  required: ['type', 'input_audio'],
  properties: {
    type: { const: 'input_audio' },
    input_audio: { type: 'object', required: ['data', 'format'], properties: { data: { type: 'string', minLength: 1 }, format: { type: 'string' } } },
  },
} as const;

/** Dispatch on `type` first, so a wrong part gets the error of its own kind, not "text is missing". */
const userPart = {
  type: 'object',
  required: ['type'],
  properties: { type: { enum: ['text', 'image_url', 'file', 'input_audio'] } },
  allOf: [
    { if: { properties: { type: { const: 'text' } } }, then: textPart },
    { if: { properties: { type: { const: 'image_url' } } }, then: imagePart },
    { if: { properties: { type: { const: 'file' } } }, then: filePart },
    { if: { properties: { type: { const: 'input_audio' } } }, then: audioPart },
  ],
} as const;

const textContent = { anyOf: [{ type: 'string' }, { type: 'array', items: textPart }] } as const;

const message = {
  type: 'object',
  required: ['role'],
  properties: { role: { enum: ['system', 'developer', 'user', 'assistant', 'tool'] } },
  allOf: [
    {
      if: { properties: { role: { const: 'user' } } },
      then: {
        required: ['content'],
        properties: { content: { anyOf: [{ type: 'string' }, { type: 'array', items: userPart }] } },
      },
    },
    { if: { properties: { role: { enum: ['system', 'developer'] } } }, then: { required: ['content'], properties: { content: textContent } } },
    {
      if: { properties: { role: { const: 'tool' } } },
      then: { required: ['content', 'tool_call_id'], properties: { content: textContent, tool_call_id: { type: 'string' } } },
    },
    {
      if: { properties: { role: { const: 'assistant' } } },
      then: {
        properties: {
          content: nullable(textContent),
          tool_calls: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'type', 'function'],
              properties: {
                id: { type: 'string' },
                type: { const: 'function' },
                function: { type: 'object', required: ['name', 'arguments'], properties: { name: { type: 'string' }, arguments: { type: 'string' } } },
              },
            },
          },
        },
      },
    },
  ],
} as const;

const tool = {
  type: 'object',
  required: ['type', 'function'],
  properties: {
    type: { const: 'function' },
    function: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', minLength: 1 }, description: { type: 'string' }, parameters: { type: 'object' }, strict: nullable({ type: 'boolean' }) },
    },
  },
} as const;

const number = (min: number, max: number) => nullable({ type: 'number', minimum: min, maximum: max });
const count = nullable({ type: 'integer', minimum: 1 });

export const chatCompletionsRequestSchema = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string', minLength: 1 },
    messages: { type: 'array', minItems: 1, items: message },
    stream: nullable({ type: 'boolean' }),
    stream_options: nullable({ type: 'object', properties: { include_usage: { type: 'boolean' } } }),
    max_tokens: count,
    max_completion_tokens: count,
    temperature: number(0, 2),
    top_p: number(0, 1),
    stop: nullable({ anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 16 }] }),
    tools: { type: 'array', items: tool },
    tool_choice: {
      anyOf: [
        { enum: ['none', 'auto', 'required'] },
        { type: 'object', required: ['type', 'function'], properties: { type: { const: 'function' }, function: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } },
      ],
    },
    parallel_tool_calls: { type: 'boolean' },
    response_format: {
      type: 'object',
      required: ['type'],
      properties: {
        type: { enum: ['text', 'json_object', 'json_schema'] },
        json_schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, description: { type: 'string' }, schema: { type: 'object' }, strict: nullable({ type: 'boolean' }) } },
      },
      if: { properties: { type: { const: 'json_schema' } } },
      then: { required: ['type', 'json_schema'] },
    },
    n: count,
    presence_penalty: number(-2, 2),
    frequency_penalty: number(-2, 2),
    seed: nullable({ type: 'integer' }),
    user: { type: 'string' },
    logprobs: nullable({ type: 'boolean' }),
    top_logprobs: nullable({ type: 'integer', minimum: 0, maximum: 20 }),
    logit_bias: nullable({ type: 'object', additionalProperties: { type: 'number' } }),
    reasoning_effort: nullable({ enum: ['minimal', 'low', 'medium', 'high'] }),
    metadata: nullable({ type: 'object', additionalProperties: { type: 'string' } }),
    store: nullable({ type: 'boolean' }),
    service_tier: nullable({ type: 'string' }),
    prompt_cache_key: nullable({ type: 'string' }),
    safety_identifier: nullable({ type: 'string' }),
    verbosity: nullable({ enum: ['low', 'medium', 'high'] }),
    modalities: nullable({ type: 'array', items: { type: 'string' } }),
    audio: nullable({ type: 'object' }),
    prediction: nullable({ type: 'object' }),
    web_search_options: nullable({ type: 'object' }),
  },
} as const;

/** Top-level chat fields Keyward knows (and so maps, drops or refuses when translating). */
export const KNOWN_CHAT_FIELDS: ReadonlySet<string> = new Set(Object.keys(chatCompletionsRequestSchema.properties));

export const embeddingsRequestSchema = {
  type: 'object',
  required: ['model', 'input'],
  additionalProperties: false,
  properties: {
    model: { type: 'string', minLength: 1 },
    input: {
      anyOf: [
        { type: 'string' },
        { type: 'array', minItems: 1, items: { type: 'string' } },
        { type: 'array', minItems: 1, items: { type: 'integer' } },
        { type: 'array', minItems: 1, items: { type: 'array', items: { type: 'integer' } } },
      ],
    },
    encoding_format: { enum: ['float', 'base64'] },
    dimensions: { type: 'integer', minimum: 1 },
    user: { type: 'string' },
  },
} as const;
