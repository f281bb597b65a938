// The bench's provider: a local OpenAI-compatible Chat Completions server, in its own process
// (forked by router-overhead.ts), so the gateways under test only route. Its pace comes from the
// model name, which both gateways forward unchanged: `bench-d20-i50-n20` waits 20 ms before
// answering, streams 20 content chunks 50 ms apart (all parts optional; `bench` answers at once).
// Sends `{ port }` to its parent when listening.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const WORDS = 'The quick brown fox jumps over the lazy dog.'.split(' ');

interface Pace {
  delayMs: number;
  intervalMs: number;
  chunks: number;
}

function paceOf(model: string): Pace {
  const pick = (letter: string, fallback: number) => Number(new RegExp(`-${letter}(\\d+)`).exec(model)?.[1] ?? fallback);
  return { delayMs: pick('d', 0), intervalMs: pick('i', 0), chunks: pick('n', WORDS.length) };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function answer(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { stream?: boolean; model?: string };
  const model = body.model ?? 'bench';
  const pace = paceOf(model);
  const words = Array.from({ length: pace.chunks }, (_, i) => WORDS[i % WORDS.length]!);
  const base = { id: 'chatcmpl-bench', created: 1_700_000_000, model };
  const usage = { prompt_tokens: 12, completion_tokens: words.length, total_tokens: 12 + words.length };
  if (pace.delayMs) await sleep(pace.delayMs);
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: words.join(' ') }, finish_reason: 'stop', logprobs: null }], usage }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  res.write(chunk({ role: 'assistant', content: '' }));
  for (const word of words) {
    if (pace.intervalMs) await sleep(pace.intervalMs);
    if (res.destroyed) return;
    res.write(chunk({ content: `${word} ` }));
  }
  res.write(chunk({}, 'stop'));
  res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
  res.end('data: [DONE]\n\n');
}

const server = createServer((req, res) => {
  answer(req, res).catch(() => res.destroy());
});
server.keepAliveTimeout = 60_000;
server.maxRequestsPerSocket = 0;
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => process.send?.({ port: (server.address() as AddressInfo).port }));
// The parent going away (or telling us to) ends this process.
process.on('disconnect', () => process.exit(0));
