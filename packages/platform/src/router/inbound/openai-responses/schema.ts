// JSON Schema of the Responses API request body the router translates (through chat, for every
// provider). Unknown fields are refused by name; request.ts refuses by name the values of known
// fields it cannot honour (a non-empty include, background: true, previous_response_id, …).

export const responsesRequestSchema = {
  type: 'object',
  required: ['model', 'input'],
  additionalProperties: false,
  properties: {
    model: { type: 'string', minLength: 1 },
    input: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'object' } }] },
    instructions: { type: ['string', 'null'] },
    tools: {
      type: 'array',
      items: { type: 'object', required: ['type'], properties: { type: { type: 'string' }, name: { type: 'string' }, description: { type: ['string', 'null'] }, parameters: { type: ['object', 'null'] }, strict: { type: ['boolean', 'null'] } } },
    },
    tool_choice: {
      anyOf: [
        { enum: ['none', 'auto', 'required'] },
        { type: 'object', required: ['type'], properties: { type: { type: 'string' }, name: { type: 'string' } } },
      ],
    },
    parallel_tool_calls: { type: ['boolean', 'null'] },
    text: {
      type: 'object',
      properties: {
        format: {
          type: 'object',
          required: ['type'],
          properties: { type: { enum: ['text', 'json_object', 'json_schema'] }, name: { type: 'string' }, schema: { type: 'object' }, description: { type: 'string' }, strict: { type: ['boolean', 'null'] } },
        },
        verbosity: { enum: ['low', 'medium', 'high', null] },
      },
    },
    max_output_tokens: { type: ['integer', 'null'], minimum: 1 },
    temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
    top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
    stream: { type: ['boolean', 'null'] },
    user: { type: 'string' },
    metadata: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
    store: { type: ['boolean', 'null'] },
    reasoning: { type: ['object', 'null'], properties: { effort: { type: ['string', 'null'] }, summary: { type: ['string', 'null'] } } },
    include: { type: ['array', 'null'], items: { type: 'string' } },
    truncation: { enum: ['auto', 'disabled', null] },
    background: { type: ['boolean', 'null'] },
    previous_response_id: { type: ['string', 'null'] },
    conversation: { type: ['string', 'object', 'null'] },
    service_tier: { type: ['string', 'null'] },
    prompt_cache_key: { type: ['string', 'null'] },
    safety_identifier: { type: ['string', 'null'] },
  },
} as const;
