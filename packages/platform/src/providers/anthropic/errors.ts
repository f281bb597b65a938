// Anthropic error bodies: `{"type":"error","error":{"type","message"},"request_id"}`, except a
// 413 answered by Cloudflare before the API, which may be HTML or plain text.

import type { UpstreamErrorDetail } from '../provider-adapter.js';

export function parseAnthropicError(status: number, body: unknown): UpstreamErrorDetail {
  if (isRecord(body) && isRecord(body.error) && typeof body.error.message === 'string') {
    const detail: UpstreamErrorDetail = { message: body.error.message };
    if (typeof body.error.type === 'string') detail.type = body.error.type;
    return detail;
  }
  if (typeof body === 'string' && body.trim() !== '' && !body.trimStart().startsWith('<')) {
    return { message: body.trim() };
  }
  return { message: `Anthropic answered HTTP ${status}` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
