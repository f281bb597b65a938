// Sends a canonical chat stream to the caller in its own wire format: every inbound format is an
// encoder of canonical chunks; the relay, metering and ending are the same for all of them.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatCompletionChunk } from '../../providers/openai-chat.js';
import type { ChatStream } from '../chat/run-chat.js';
import type { RouterContext } from '../router-context.js';
import type { RouterError } from '../router-error.js';
import type { RouterCall } from './router-call.js';
import { SseWriter } from './sse-writer.js';
import { finishStream } from './stream-outcome.js';

export interface ChatStreamEncoder {
  /** The SSE text for one canonical chunk (may be empty). */
  push(chunk: ChatCompletionChunk): string;
  /** The SSE text that ends a complete answer. */
  end(): string;
  /** The SSE error event that ends a broken one (already mapped, the provider key scrubbed). */
  error(error: RouterError): string;
}

export async function relayChatStream(
  router: RouterContext,
  call: RouterCall,
  request: FastifyRequest,
  reply: FastifyReply,
  stream: ChatStream,
  encoder: ChatStreamEncoder,
): Promise<void> {
  const writer = new SseWriter(request, reply);
  // A batch (one upstream read) is encoded into one piece of text and written once.
  const send = async (chunks: ChatCompletionChunk[]) => {
    let text = '';
    for (const chunk of chunks) {
      call.meter.observeChunk(chunk);
      text += encoder.push(chunk);
    }
    await writer.write(text);
  };
  await finishStream(
    router,
    call,
    writer,
    async () => {
      await send(stream.first);
      for await (const chunks of stream.rest) await send(chunks);
      await writer.write(encoder.end());
    },
    (error) => encoder.error(error),
    () => stream.rest.return(undefined),
  );
}
