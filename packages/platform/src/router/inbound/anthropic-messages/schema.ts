// JSON Schema of the Messages request body, for Fastify/ajv route validation. It checks shape
// only; request.ts refuses, by name, fields that are well-formed but cannot be translated.
// Top-level unknown fields pass the schema: the native passthrough forwards them for Anthropic to
// judge, and request.ts refuses them by name when translating. Register the route with ajv
// `removeAdditional: false`, or Fastify's default silently strips them instead.

const textBlock = {
  type: 'object',
  required: ['type', 'text'],
  properties: { type: { const: 'text' }, text: { type: 'string' } },
} as const;

const contentBlock = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string' } },
} as const;

export const anthropicMessagesRequestSchema = {
  type: 'object',
  required: ['model', 'max_tokens', 'messages'],
  properties: {
    model: { type: 'string', minLength: 1 },
    max_tokens: { type: 'integer', minimum: 1 },
    messages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['role', 'content'],
        properties: {
          role: { enum: ['user', 'assistant'] },
          // A type list, not anyOf: with Fastify's coerceTypes, anyOf branches coerce data for each other.
          content: { type: ['string', 'array'], items: contentBlock },
        },
      },
    },
    system: { type: ['string', 'array'], items: textBlock },
    metadata: { type: 'object', properties: { user_id: { type: ['string', 'null'] } } },
    stop_sequences: { type: 'array', items: { type: 'string' } },
    stream: { type: 'boolean' },
    temperature: { type: 'number', minimum: 0, maximum: 1 },
    top_p: { type: 'number', minimum: 0, maximum: 1 },
    top_k: { type: 'integer', minimum: 0 },
    tools: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        properties: {
          type: { type: 'string' },
          name: { type: 'string', minLength: 1 },
          description: { type: 'string' },
          input_schema: { type: 'object' },
          strict: { type: 'boolean' },
        },
      },
    },
    tool_choice: {
      type: 'object',
      required: ['type'],
      properties: {
        type: { enum: ['auto', 'any', 'tool', 'none'] },
        name: { type: 'string' },
        disable_parallel_tool_use: { type: 'boolean' },
      },
      if: { properties: { type: { const: 'tool' } } },
      then: { required: ['type', 'name'] },
    },
    thinking: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['enabled', 'adaptive', 'disabled'] }, budget_tokens: { type: 'integer' } },
    },
    output_config: {
      type: 'object',
      properties: {
        effort: { type: ['string', 'null'] },
        format: { type: ['object', 'null'], required: ['type'], properties: { type: { type: 'string' }, schema: { type: 'object' } } },
      },
    },
    service_tier: { enum: ['auto', 'standard_only'] },
    // Native-only (code execution, skills, the MCP connector): forwarded on the passthrough with a
    // personal key (router/access/account-state.ts), refused by name when translated.
    container: { type: ['string', 'object', 'null'] },
    mcp_servers: { type: 'array', items: { type: 'object' } },
  },
} as const;

const COUNT_TOKENS_FIELDS = ['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'output_config', 'mcp_servers', 'container'] as const;

/** `messages/count_tokens` takes the parts of a Messages request that make up the prompt; no max_tokens. */
export const anthropicCountTokensRequestSchema = {
  type: 'object',
  required: ['model', 'messages'],
  additionalProperties: false,
  properties: Object.fromEntries(COUNT_TOKENS_FIELDS.map((field) => [field, anthropicMessagesRequestSchema.properties[field]])),
} as const;

/** Top-level Messages fields Keyward knows, and so maps, drops or refuses when translating. */
export const KNOWN_MESSAGES_FIELDS: ReadonlySet<string> = new Set(Object.keys(anthropicMessagesRequestSchema.properties));
