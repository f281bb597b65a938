// One call through either inbound wire with the official SDK, in canonical terms, and the
// upstream request as each provider received it, in comparable terms: so one translation test
// body covers OpenAI-in and Anthropic-in, streaming and not, for every provider.

import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';

export interface CanonicalCall {
  model: string;
  system?: string;
  developer?: string;
  messages: Array<
    | { role: 'user'; text?: string; parts?: string[]; imageDataUrl?: string }
    | { role: 'assistant'; text?: string; toolCalls?: Array<{ id: string; name: string; arguments: string }> }
    | { role: 'tool'; toolCallId: string; content: string }
  >;
  tools?: Array<{ name: string; description?: string; parameters: Record<string, unknown> }>;
  toolChoice?: { name: string } | 'required';
  jsonSchema?: { name: string; schema: Record<string, unknown> };
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  extra?: Record<string, unknown>;
}

export interface NormalizedAnswer {
  text: string;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finish: 'stop' | 'length' | 'tool_calls' | 'content_filter' | string;
  usage: { input: number; output: number; cached: number; reasoning: number | null } | null;
  /** OpenAI streams only: how many chunks carried usage. */
  usageChunks?: number;
}

export async function callOpenAI(client: OpenAI, call: CanonicalCall, stream: boolean, includeUsage = true): Promise<NormalizedAnswer> {
  const messages: any[] = [];
  if (call.system) messages.push({ role: 'system', content: call.system });
  if (call.developer) messages.push({ role: 'developer', content: call.developer });
  for (const m of call.messages) {
    if (m.role === 'user') {
      const parts: any[] = (m.parts ?? []).map((text) => ({ type: 'text', text }));
      if (m.imageDataUrl) parts.push({ type: 'image_url', image_url: { url: m.imageDataUrl } });
      messages.push({ role: 'user', content: parts.length ? (m.text ? [{ type: 'text', text: m.text }, ...parts] : parts) : (m.text ?? '') });
    } else if (m.role === 'assistant') {
      messages.push({
        role: 'assistant',
        content: m.text ?? null,
        ...(m.toolCalls ? { tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) } : {}),
      });
    } else messages.push({ role: 'tool', tool_call_id: m.toolCallId, content: m.content });
  }
  const params: any = { model: call.model, messages, ...call.extra };
  if (call.tools) params.tools = call.tools.map((t) => ({ type: 'function', function: t }));
  if (call.toolChoice) params.tool_choice = call.toolChoice === 'required' ? 'required' : { type: 'function', function: { name: call.toolChoice.name } };
  if (call.jsonSchema) params.response_format = { type: 'json_schema', json_schema: { name: call.jsonSchema.name, schema: call.jsonSchema.schema, strict: true } };
  if (call.maxTokens) params.max_completion_tokens = call.maxTokens;
  if (call.temperature !== undefined) params.temperature = call.temperature;
  if (call.topP !== undefined) params.top_p = call.topP;
  if (call.stop) params.stop = call.stop;
  const usageOf = (u: any) =>
    u ? { input: u.prompt_tokens, output: u.completion_tokens, cached: u.prompt_tokens_details?.cached_tokens ?? 0, reasoning: u.completion_tokens_details?.reasoning_tokens ?? 0 } : null;
  if (!stream) {
    const out: any = await client.chat.completions.create(params);
    const choice = out.choices[0];
    return {
      text: choice.message.content ?? '',
      toolCalls: (choice.message.tool_calls ?? []).map((c: any) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })),
      finish: choice.finish_reason,
      usage: usageOf(out.usage),
    };
  }
  const s: any = await client.chat.completions.create({ ...params, stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) });
  let text = '';
  let finish = '';
  let usage = null;
  let usageChunks = 0;
  const calls = new Map<number, { id: string; name: string; arguments: string }>();
  for await (const chunk of s) {
    if (chunk.usage) {
      usage = usageOf(chunk.usage);
      usageChunks += 1;
    }
    const choice = chunk.choices[0];
    if (!choice) continue;
    text += choice.delta.content ?? '';
    for (const d of choice.delta.tool_calls ?? []) {
      const c = calls.get(d.index) ?? { id: '', name: '', arguments: '' };
      if (d.id) c.id = d.id;
      if (d.function?.name) c.name += d.function.name;
      if (d.function?.arguments) c.arguments += d.function.arguments;
      calls.set(d.index, c);
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  return { text, toolCalls: [...calls.values()], finish, usage, usageChunks };
}

const STOP: Record<string, string> = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_calls', refusal: 'content_filter' };

export async function callAnthropic(client: Anthropic, call: CanonicalCall, stream: boolean): Promise<NormalizedAnswer> {
  const messages: any[] = [];
  for (const m of call.messages) {
    if (m.role === 'user') {
      const blocks: any[] = [];
      if (m.text) blocks.push({ type: 'text', text: m.text });
      for (const p of m.parts ?? []) blocks.push({ type: 'text', text: p });
      if (m.imageDataUrl) {
        const [, mediaType, data] = /^data:([^;]+);base64,(.*)$/.exec(m.imageDataUrl)!;
        blocks.push({ type: 'image', source: { type: 'base64', media_type: mediaType, data } });
      }
      messages.push({ role: 'user', content: blocks.length === 1 && m.text && !m.parts ? m.text : blocks });
    } else if (m.role === 'assistant') {
      const blocks: any[] = [];
      if (m.text) blocks.push({ type: 'text', text: m.text });
      for (const c of m.toolCalls ?? []) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: JSON.parse(c.arguments) });
      messages.push({ role: 'assistant', content: blocks });
    } else {
      const block = { type: 'tool_result', tool_use_id: m.toolCallId, content: m.content };
      const last = messages[messages.length - 1];
      if (last?.role === 'user' && Array.isArray(last.content) && last.content[0]?.type === 'tool_result') last.content.push(block);
      else messages.push({ role: 'user', content: [block] });
    }
  }
  const params: any = { model: call.model, max_tokens: call.maxTokens ?? 1024, messages, ...call.extra };
  const system = [call.system, call.developer].filter(Boolean).join('\n');
  if (system) params.system = system;
  if (call.tools) params.tools = call.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters }));
  if (call.toolChoice) params.tool_choice = call.toolChoice === 'required' ? { type: 'any' } : { type: 'tool', name: call.toolChoice.name };
  if (call.jsonSchema) params.output_config = { format: { type: 'json_schema', schema: call.jsonSchema.schema } };
  if (call.temperature !== undefined) params.temperature = call.temperature;
  if (call.topP !== undefined) params.top_p = call.topP;
  if (call.stop) params.stop_sequences = call.stop;
  const message: any = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
  const u = message.usage;
  return {
    text: message.content.filter((b: any) => b.type === 'text').map((b: any) => b.text).join(''),
    toolCalls: message.content.filter((b: any) => b.type === 'tool_use').map((b: any) => ({ id: b.id, name: b.name, arguments: JSON.stringify(b.input) })),
    finish: STOP[message.stop_reason] ?? message.stop_reason,
    usage: u
      ? {
          input: (u.input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0),
          output: u.output_tokens,
          cached: u.cache_read_input_tokens ?? 0,
          reasoning: null,
        }
      : null,
  };
}

/** The provider's received request, in comparable terms. */
export function inspectUpstream(provider: string, body: any) {
  if (provider === 'anthropic') {
    const blocks = (body.messages ?? []).flatMap((m: any) => (Array.isArray(m.content) ? m.content : [{ type: 'text', text: m.content }]));
    return {
      system: typeof body.system === 'string' ? body.system : (body.system ?? []).map((b: any) => b.text).join('\n'),
      hasImage: blocks.some((b: any) => b.type === 'image'),
      texts: blocks.filter((b: any) => b.type === 'text').map((b: any) => b.text),
      toolNames: (body.tools ?? []).map((t: any) => t.name),
      forcedTool: body.tool_choice?.type === 'tool' ? body.tool_choice.name : body.tool_choice?.type === 'any' ? '*' : undefined,
      toolResults: blocks.filter((b: any) => b.type === 'tool_result').length,
      toolUses: blocks.filter((b: any) => b.type === 'tool_use').length,
      schema: body.output_config?.format?.schema,
      maxTokens: body.max_tokens,
      temperature: body.temperature,
      topP: body.top_p,
      stop: body.stop_sequences,
    };
  }
  if (provider === 'gemini') {
    const parts = (body.contents ?? []).flatMap((c: any) => c.parts ?? []);
    const g = body.generationConfig ?? {};
    const mode = body.toolConfig?.functionCallingConfig;
    return {
      system: (body.systemInstruction?.parts ?? []).map((p: any) => p.text).join('\n'),
      hasImage: parts.some((p: any) => p.inlineData || p.fileData),
      texts: parts.filter((p: any) => typeof p.text === 'string').map((p: any) => p.text),
      toolNames: (body.tools ?? []).flatMap((t: any) => (t.functionDeclarations ?? []).map((f: any) => f.name)),
      forcedTool: mode?.mode === 'ANY' ? (mode.allowedFunctionNames?.[0] ?? '*') : undefined,
      toolResults: parts.filter((p: any) => p.functionResponse).length,
      toolUses: parts.filter((p: any) => p.functionCall).length,
      schema: g.responseJsonSchema ?? g.responseSchema,
      maxTokens: g.maxOutputTokens,
      temperature: g.temperature,
      topP: g.topP,
      stop: g.stopSequences,
    };
  }
  const messages = body.messages ?? [];
  const contentParts = messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : []));
  const choice = body.tool_choice;
  return {
    system: messages
      .filter((m: any) => m.role === 'system' || m.role === 'developer')
      .map((m: any) => (typeof m.content === 'string' ? m.content : m.content.map((p: any) => p.text).join('')))
      .join('\n'),
    hasImage: contentParts.some((p: any) => p.type === 'image_url'),
    texts: contentParts.filter((p: any) => p.type === 'text').map((p: any) => p.text),
    toolNames: (body.tools ?? []).map((t: any) => t.function.name),
    forcedTool: typeof choice === 'object' ? choice.function.name : choice === 'required' ? '*' : undefined,
    toolResults: messages.filter((m: any) => m.role === 'tool').length,
    toolUses: messages.flatMap((m: any) => m.tool_calls ?? []).length,
    schema: body.response_format?.json_schema?.schema,
    maxTokens: body.max_completion_tokens ?? body.max_tokens,
    temperature: body.temperature,
    topP: body.top_p,
    stop: typeof body.stop === 'string' ? [body.stop] : body.stop,
  };
}
