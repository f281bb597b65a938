// OpenAI-style error bodies, and the variants compatible servers send, turned into one message.

import type { UpstreamErrorDetail } from '../provider-adapter.js';
import { isObject, str } from './wire.js';

export function parseOpenAIError(status: number, body: unknown): UpstreamErrorDetail {
  // OpenAI, Azure, Groq, vLLM…: {"error":{"message","type","code"}}; Ollama may send {"error":"…"}.
  if (isObject(body) && body.error !== undefined) {
    const error = body.error;
    if (typeof error === 'string') return { message: error };
    if (isObject(error)) return detail(str(error.message), str(error.type) ?? str(error.code), status);
  }
  // Mistral: {"object":"error","message","type"}; Together/FastAPI servers: {"detail": …}.
  if (isObject(body)) {
    if (typeof body.message === 'string') return detail(body.message, str(body.type) ?? str(body.code), status);
    if (typeof body.detail === 'string') return { message: body.detail };
    if (body.detail !== undefined) return { message: JSON.stringify(body.detail) };
  }
  if (typeof body === 'string' && body.trim()) return { message: body.trim().slice(0, 1000) };
  return { message: `upstream answered HTTP ${status}` };
}

function detail(message: string | undefined, type: string | undefined, status: number): UpstreamErrorDetail {
  const out: UpstreamErrorDetail = { message: message || `upstream answered HTTP ${status}` };
  if (type) out.type = type;
  return out;
}
