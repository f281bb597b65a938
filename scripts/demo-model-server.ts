// A tiny OpenAI-compatible model server for the offline demo: no dependencies, no real LLM.
// Register it in Keyward as an OpenAI-compatible provider with base URL `{url}/v1`.
//
//   node --import tsx scripts/demo-model-server.ts [--port 9100] [--host 127.0.0.1]
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

export const DEMO_MODEL_ID = 'keyward-demo';
/** Between two streamed words: slow enough to see the answer arrive, fast enough for tests. */
const WORD_DELAY_MS = 30;
const CREATED = Math.floor(Date.now() / 1000);

interface ChatRequest {
  model?: unknown;
  messages?: Array<{ role?: unknown; content?: unknown }>;
  stream?: unknown;
  stream_options?: { include_usage?: unknown };
}

export async function startDemoModelServer({ port = 0, host = '127.0.0.1' }: { port?: number; host?: string } = {}): Promise<{
  url: string;
  close(): Promise<void>;
}> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, (error as Error).message, 'server_error');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostForUrl}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://demo').pathname.replace(/\/+$/, '');
  if (req.method === 'GET' && path === '/v1/models') {
    return sendJson(res, 200, { object: 'list', data: [{ id: DEMO_MODEL_ID, object: 'model', created: CREATED, owned_by: 'keyward' }] });
  }
  if (req.method === 'POST' && path === '/v1/chat/completions') return chatCompletions(req, res);
  return sendError(res, 404, `Unknown route ${req.method} ${path}`, 'invalid_request_error', 'unknown_url');
}

async function chatCompletions(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: ChatRequest;
  try {
    body = JSON.parse(await readBody(req)) as ChatRequest;
  } catch {
    return sendError(res, 400, 'The request body must be JSON.', 'invalid_request_error');
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return sendError(res, 400, "'messages' must be a non-empty array.", 'invalid_request_error', null, 'messages');
  }
  const model = typeof body.model === 'string' && body.model ? body.model : DEMO_MODEL_ID;
  const answer = demoAnswer(body.messages);
  const words = answer.match(/\S+\s*/g) ?? [];
  const usage = {
    prompt_tokens: countTokens(body.messages.map((m) => textOf(m.content)).join(' ')),
    completion_tokens: words.length,
    total_tokens: 0,
  };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
  const created = Math.floor(Date.now() / 1000);

  if (body.stream !== true) {
    return sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: answer, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage,
    });
  }

  const includeUsage = body.stream_options?.include_usage === true;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...(includeUsage ? { usage: null } : {}), ...extra })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let closed = false;
  res.on('close', () => (closed = true));

  res.write(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]));
  for (const word of words) {
    await sleep(WORD_DELAY_MS);
    if (closed) return;
    res.write(chunk([{ index: 0, delta: { content: word }, logprobs: null, finish_reason: null }]));
  }
  res.write(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]));
  if (includeUsage) res.write(chunk([], { usage }));
  res.end('data: [DONE]\n\n');
}

function demoAnswer(messages: NonNullable<ChatRequest['messages']>): string {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const said = textOf(lastUser?.content).trim().replace(/\s+/g, ' ');
  const quoted = said.length > 200 ? `${said.slice(0, 200)}…` : said;
  return `This answer comes from Keyward's offline demo model, not a real LLM. You said: ${quoted || '(nothing)'}`;
}

/** Message content is a string or an array of parts ({type:"text", text}). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part: { type?: unknown; text?: unknown }) => (part?.type === 'text' && typeof part.text === 'string' ? part.text : '')).join(' ');
  }
  return '';
}

/** A rough count (about four characters a token), good enough for demo usage numbers. */
function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, message: string, type: string, code: string | null = null, param: string | null = null): void {
  sendJson(res, status, { error: { message, type, code, param } });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Run directly: `node --import tsx scripts/demo-model-server.ts --port 9100`
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const port = Number(arg('port') ?? process.env.DEMO_MODEL_PORT ?? 9100);
  const host = arg('host') ?? '127.0.0.1';
  const demo = await startDemoModelServer({ port, host });
  console.log(`Demo model server: ${demo.url}/v1 (model "${DEMO_MODEL_ID}")`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void demo.close().then(() => process.exit(0)));
}
