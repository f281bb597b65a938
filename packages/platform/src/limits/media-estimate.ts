// The input tokens a media part costs beyond what its bytes in the request show, for the
// worst-case estimate a budget reserves before a call (limit-guard.ts: bytes ÷ 3 + these). An
// image by URL is a few dozen bytes and up to thousands of tokens; a document's pages are billed
// as text plus an image of each page. The figures are worst cases: a reservation only needs to be
// high enough, and what it holds beyond the actual cost is given back when the call settles.
// Each inbound format finds its parts where its request is read: router/chat/run-chat.ts
// (canonical chat: the OpenAI, Responses and translated Anthropic routes, Gemini-bound calls) and
// router/inbound/anthropic-messages/media.ts (the native Anthropic passthrough).

import { BYTES_PER_INPUT_TOKEN } from './limit-guard.js';

/**
 * One image whose size the request does not show (by URL or by file id). The largest per-image
 * figures the providers document, rounded up:
 * - OpenAI (platform.openai.com/docs/guides/images-vision, "Calculating costs"): tile models
 *   (gpt-4o, gpt-4.1, gpt-5, o-series) at `detail: high` at most 85 + 8 × 170 = 1,445 (the image
 *   fit in 2048 px, its short side scaled to 768 px, 512 px tiles); patch models at most 1,536
 *   patches × the model's multiplier (gpt-4.1-nano 2.46) = 3,779.
 * - Anthropic (docs.claude.com, "Vision"): about width × height / 750, an image scaled down to
 *   ~1.15 MP, so ~1,600; Claude Opus 4.7 reads up to 2,576 px on the long edge (3.75 MP), ~4,800.
 * - Gemini (ai.google.dev/gemini-api/docs/tokens, /media-resolution): 258 per 768 × 768 tile;
 *   Gemini 3 at `media_resolution` high, 1,120 per image.
 */
export const IMAGE_TOKENS = 5_000;

/**
 * gpt-4o-mini bills an image at 33⅓ times gpt-4o's tokens (openai.com/api/pricing, image inputs:
 * 2,833 base + 5,667 per 512 px tile, each priced at its low per-token rate): at most 2,833 + 8 ×
 * 5,667 = 48,169.
 */
export const GPT_4O_MINI_IMAGE_TOKENS = 48_169;

/**
 * A document (a PDF, or a file of a kind not listed below) or any file by reference (a file id,
 * a URL, a Gemini Files API URI that may name a video): its pages or length cannot be told from
 * the request, nor from a PDF's bytes (blank and compressed pages are small). Pages are billed as
 * their text plus an image of each page: Anthropic (docs.claude.com, "PDF support") 1,500–3,000
 * text tokens per page plus the page image, up to 100 pages; OpenAI the same, up to 100 pages
 * (platform.openai.com/docs/guides/pdf-files); Gemini 258 tokens per page, up to 1,000 pages
 * (ai.google.dev/gemini-api/docs/document-processing), a video 263 per second. 200,000 is the
 * context window of most Claude models and above gpt-4o's 128,000, which bound one call's input;
 * a model with a longer window can be sent a document that costs more (docs/money.md). So under a
 * tight limit a call with a document is refused before the provider is called.
 */
export const DOCUMENT_TOKENS = 200_000;

/** Tokens an image adds beyond its characters in the request (`inlineChars`: 0 when by URL or id). */
export function imageTokens(model: string, inlineChars = 0): number {
  const worst = model.includes('gpt-4o-mini') ? GPT_4O_MINI_IMAGE_TOKENS : IMAGE_TOKENS;
  // Inline data is already counted as bytes ÷ 3: only the rest up to the image's worst case.
  return Math.max(0, worst - Math.ceil(inlineChars / BYTES_PER_INPUT_TOKEN));
}

/**
 * Tokens a file adds beyond its characters in the request, by media type (undefined: not known,
 * a reference). Audio and video sent inline cost far fewer tokens than their bytes ÷ 3 (Gemini:
 * 32 tokens per second of audio, 263 per second of video; even 8 kbit/s audio is ~440 tokens a
 * second as base64 ÷ 3), and text is its bytes: nothing to add. An image is an image.
 */
export function fileTokens(model: string, mediaType: string | undefined, inlineChars = 0): number {
  if (mediaType !== undefined && inlineChars > 0) {
    if (mediaType.startsWith('image/')) return imageTokens(model, inlineChars);
    if (mediaType.startsWith('audio/') || mediaType.startsWith('video/') || mediaType.startsWith('text/')) return 0;
  }
  return Math.max(0, DOCUMENT_TOKENS - Math.ceil(inlineChars / BYTES_PER_INPUT_TOKEN));
}

/** An image part's URL: inline data (`data:image/…;base64,…`, or a file as an image part) or a URL to fetch. */
export function imageUrlTokens(model: string, url: string): number {
  const type = dataUrlType(url);
  if (type === undefined) return imageTokens(model);
  return type.startsWith('image/') ? imageTokens(model, url.length) : fileTokens(model, type, url.length);
}

/** The media type of a `data:<type>;base64,…` URL; undefined for any other URL. */
export function dataUrlType(url: string): string | undefined {
  if (!url.startsWith('data:')) return undefined;
  const end = url.indexOf(';');
  const comma = url.indexOf(',');
  const stop = end === -1 || (comma !== -1 && comma < end) ? comma : end;
  return stop === -1 ? undefined : url.slice(5, stop).toLowerCase();
}
