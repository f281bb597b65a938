// The soak's provider: a local OpenAI-compatible server that misbehaves on request. The fault is
// the model name (`soak-<fault>`), so the caller knows what it asked for and the soak can tell a
// fault Keyward was handed from one it made. In its own process; sends `{ port }` when listening.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAULTS = [
  'ok', // a normal answer
  'slow', // a stream of a word every 100 ms for about 1.5 s (callers abort some of these)
  'status-500',
  'status-503',
  'status-429', // with Retry-After
  'hang', // headers never come: Keyward's upstream timeout must answer
  'stall', // a stream that stops sending after two chunks, connection open
  'cut', // the connection is destroyed mid-answer
  'not-json', // 200 with a body that is not JSON (or SSE lines that are not)
  'wrong-shape', // 200 with JSON that is not a chat completion
] as const;
export type Fault = (typeof FAULTS)[number];

const WORDS = 'The quick brown fox jumps over the lazy dog'.split(' ');
const usage = { prompt_tokens: 12, completion_tokens: WORDS.length, total_tokens: 12 + WORDS.length };

function chunk(model: string, delta: object, finish: string | null = null): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-soak', object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

function completion(model: string): string {
  return JSON.stringify({
    id: 'chatcmpl-soak',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: WORDS.join(' ') }, finish_reason: 'stop', logprobs: null }],
    usage,
  });
}

async function streamWords(res: ServerResponse, model: string, gapMs: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(chunk(model, { role: 'assistant', content: '' }));
  for (const word of WORDS) {
    if (res.destroyed) return;
    res.write(chunk(model, { content: `${word} ` }));
    if (gapMs) await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  res.write(chunk(model, {}, 'stop'));
  res.write(`data: ${JSON.stringify({ id: 'chatcmpl-soak', object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [], usage })}\n\n`);
  res.end('data: [DONE]\n\n');
}

function answer(req: IncomingMessage, res: ServerResponse, raw: string): void {
  if (req.method === 'GET' && req.url?.endsWith('/models')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'soak-ok', object: 'model', created: 0, owned_by: 'soak' }] }));
    return;
  }
  let body: { model?: string; stream?: boolean };
  try {
    body = JSON.parse(raw) as typeof body;
  } catch {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'bad json', type: 'invalid_request_error' } }));
    return;
  }
  const model = body.model ?? 'soak-ok';
  const fault = model.replace(/^soak-/, '') as Fault;
  const error = (status: number, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ error: { message: `injected ${fault}`, type: 'server_error', code: null } }));
  };
  switch (fault) {
    case 'status-500':
      return error(500);
    case 'status-503':
      return error(503);
    case 'status-429':
      return error(429, { 'retry-after': '1' });
    case 'hang':
      return; // the socket stays open until the router gives up on it
    case 'stall':
      if (!body.stream) return;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk(model, { role: 'assistant', content: '' }));
      res.write(chunk(model, { content: 'The ' }));
      return;
    case 'cut':
      if (body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk(model, { role: 'assistant', content: '' }));
        res.write(chunk(model, { content: 'The ' }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.write(completion(model).slice(0, 40));
      }
      setTimeout(() => res.destroy(), 20);
      return;
    case 'not-json':
      res.writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json' });
      res.end(body.stream ? 'data: {"choices":[{"delta":\n\ndata: <html>oops</html>\n\n' : '<html>Bad gateway, but with a 200</html>');
      return;
    case 'wrong-shape':
      res.writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json' });
      res.end(body.stream ? 'data: {"choices":"none","usage":"lots"}\n\ndata: [DONE]\n\n' : JSON.stringify({ choices: 'none', usage: [1, 2] }));
      return;
    case 'slow':
      if (body.stream) return void streamWords(res, model, 150);
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(completion(model));
      }, 1200);
      return;
    default:
      if (body.stream) return void streamWords(res, model, 0);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(completion(model));
  }
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => answer(req, res, Buffer.concat(chunks).toString()));
  req.on('error', () => res.destroy());
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
