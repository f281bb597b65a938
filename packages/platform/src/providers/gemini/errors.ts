// Google API error bodies: {"error":{"code","message","status","details"}}, sometimes wrapped in
// an array by the JSON-array stream framing.

import type { UpstreamErrorDetail } from '../provider-adapter.js';
import { isObject, str } from './wire.js';

export function parseGeminiError(status: number, body: unknown): UpstreamErrorDetail {
  const envelope = Array.isArray(body) ? body[0] : body;
  if (isObject(envelope) && isObject(envelope.error)) {
    const out: UpstreamErrorDetail = { message: str(envelope.error.message) || `Gemini answered HTTP ${status}` };
    const type = str(envelope.error.status);
    if (type) out.type = type;
    return out;
  }
  if (typeof body === 'string' && body.trim()) return { message: body.trim().slice(0, 1000) };
  return { message: `Gemini answered HTTP ${status}` };
}
