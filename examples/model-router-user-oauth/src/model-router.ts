// The two Model Router calls the app makes, with the signed-in user's access token as Bearer.
import { REQUEST_TIMEOUT_MS } from './network.js';

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** The OpenAI error body the router answers with: `{"error":{"message","type","code","param"}}`. */
export interface RouterErrorBody {
  message?: string;
  type?: string;
  code?: string;
}

export class ModelRouter {
  /** `{KEYWARD_BASE_URL}/v1/model-router/{LLM_PROXY_ID}` — also the `baseURL` the OpenAI SDK would take. */
  readonly baseUrl: string;

  constructor(keywardBaseUrl: URL, proxyId: string) {
    this.baseUrl = `${keywardBaseUrl.href.replace(/\/+$/, '')}/v1/model-router/${encodeURIComponent(proxyId)}`;
  }

  /** GET …/models → `{"object":"list","data":[{"id":"openai:gpt-4o-mini",…}]}` */
  listModels(accessToken: string): Promise<Response> {
    return fetch(`${this.baseUrl}/models`, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  }

  /** POST …/chat/completions with `stream: true`: the answer comes back as OpenAI's SSE chunks. */
  streamChatCompletion(accessToken: string, model: string, messages: ChatMessage[], signal: AbortSignal): Promise<Response> {
    return fetch(`${this.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ model, messages, stream: true }),
      signal,
    });
  }
}

export async function readModelIds(response: Response): Promise<string[]> {
  const body = (await response.json()) as { data?: Array<{ id?: unknown }> };
  return (body.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
}

/** The router's error, whatever shape it came in (a proxy in between may answer with HTML). */
export async function readRouterError(response: Response): Promise<RouterErrorBody> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: RouterErrorBody | string; message?: string };
    if (typeof body.error === 'object' && body.error) return body.error;
    if (typeof body.error === 'string') return { message: body.error };
    if (typeof body.message === 'string') return { message: body.message };
  } catch {
    // not JSON: fall through
  }
  return {};
}
