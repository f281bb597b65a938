// What a native Messages body's media cost beyond their bytes, for the worst case a budget
// reserves before the passthrough call (limits/media-estimate.ts has the figures and sources):
// image and document blocks in user turns and inside tool results, whatever their source.

import { fileTokens, imageTokens } from '../../../limits/media-estimate.js';

type Block = { type?: unknown; source?: unknown; content?: unknown } | null;
type Source = { type?: unknown; media_type?: unknown; data?: unknown; content?: unknown } | undefined;

/** One pass over the messages; a string content is skipped unread. */
export function anthropicMediaTokens(body: Record<string, unknown>, model: string): number {
  const messages = body.messages;
  if (!Array.isArray(messages)) return 0;
  let tokens = 0;
  for (const message of messages as Array<{ content?: unknown } | null>) {
    const content = message?.content;
    if (!Array.isArray(content)) continue;
    for (const block of content as Block[]) {
      if (block?.type === 'tool_result') {
        if (Array.isArray(block.content)) for (const inner of block.content as Block[]) tokens += blockTokens(inner, model);
      } else tokens += blockTokens(block, model);
    }
  }
  return tokens;
}

function blockTokens(block: Block, model: string): number {
  const type = block?.type;
  if (type !== 'image' && type !== 'document') return 0;
  const source = block!.source as Source;
  const inline = source?.type === 'base64' && typeof source.data === 'string' ? source.data.length : 0;
  // An image by base64, url or file_id: at most an image's worth.
  if (type === 'image') return imageTokens(model, inline);
  if (source?.type === 'text') return 0; // plain text: its bytes are its tokens
  if (source?.type === 'content') {
    // A document made of blocks: its text is in the request, its images are images.
    let tokens = 0;
    if (Array.isArray(source.content)) for (const inner of source.content as Block[]) if (inner?.type === 'image') tokens += blockTokens(inner, model);
    return tokens;
  }
  // A PDF inline, or a document by url or file_id: pages the request does not show.
  return fileTokens(model, inline > 0 && typeof source?.media_type === 'string' ? source.media_type : undefined, inline);
}
