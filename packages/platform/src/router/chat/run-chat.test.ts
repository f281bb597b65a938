import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../providers/openai-chat.js';
import type { SseEvent, StreamTranslator } from '../../providers/provider-adapter.js';
import { canonicalChunks, type ChatPlan } from './run-chat.js';

const plan = { qualified: { provider: 'openai', model: 'm' } } as unknown as ChatPlan;

const chunk = (content: string, finish: 'stop' | null = null): ChatCompletionChunk => ({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta: { content }, finish_reason: finish }],
});

/** One chunk per event whose data is its content; "!" finishes the answer. */
const translator: StreamTranslator = {
  push: (event) => (event.data === '' ? [] : [chunk(event.data, event.data === '!' ? 'stop' : null)]),
  end: () => [],
};

async function* reads(...batches: string[][]): AsyncGenerator<SseEvent[]> {
  for (const batch of batches) yield batch.map((data) => ({ data }));
}

async function collect(events: AsyncGenerator<SseEvent[]>): Promise<string[][]> {
  const out: string[][] = [];
  for await (const batch of canonicalChunks(events, translator, plan)) out.push(batch.map((c) => String(c.choices[0]!.delta.content)));
  return out;
}

describe('canonicalChunks', () => {
  it('yields the first chunk alone, then one batch per upstream read, reads that make no chunk skipped', async () => {
    expect(await collect(reads(['', 'a', 'b', 'c'], ['', ''], ['d', '!']))).toEqual([['a'], ['b', 'c'], ['d', '!']]);
    expect(await collect(reads([''], ['a'], ['b', '!']))).toEqual([['a'], ['b', '!']]);
  });

  it('an answer that never finishes is cut off, after what it carried', async () => {
    const seen: string[][] = [];
    const error = await (async () => {
      for await (const batch of canonicalChunks(reads(['a'], ['b']), translator, plan)) seen.push(batch.map((c) => String(c.choices[0]!.delta.content)));
    })().then(() => undefined, (e: Error) => e);
    expect(seen).toEqual([['a'], ['b']]);
    expect(error?.message).toMatch(/ended before the answer was complete/);
  });

  it("names the caller's qualified model on every chunk", async () => {
    const models: string[] = [];
    for await (const batch of canonicalChunks(reads(['a', '!']), translator, plan)) models.push(...batch.map((c) => c.model));
    expect(models).toEqual(['openai:m', 'openai:m']);
  });
});
