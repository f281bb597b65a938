// Gemini reads files uploaded with its Files API (`https://generativelanguage.googleapis.com/v1beta/files/…`)
// when a request names their URI: those files belong to the Google project of the key, so on a
// shared key one user could read what another uploaded.

import type { ChatCompletionRequest } from '../openai-chat.js';
import type { AccountStateUse } from '../provider-adapter.js';
import { GEMINI_DEFAULT_BASE_URL } from './api.js';

const GEMINI_API_HOST = new URL(GEMINI_DEFAULT_BASE_URL).hostname;

export function isGeminiApiUrl(url: string): boolean {
  try {
    return new URL(url).hostname.toLowerCase() === GEMINI_API_HOST;
  } catch {
    return false;
  }
}

/** Image URLs that point into the Gemini API itself (its Files API), by where the caller wrote them. */
export function geminiAccountState(request: ChatCompletionRequest): AccountStateUse[] {
  const uses: AccountStateUse[] = [];
  request.messages.forEach((message, i) => {
    if (message.role !== 'user' || typeof message.content === 'string') return;
    message.content.forEach((part, j) => {
      if (part.type === 'image_url' && isGeminiApiUrl(part.image_url.url)) {
        uses.push({
          param: `messages[${i}].content[${j}].image_url.url`,
          reason: "a Gemini API URL names a file uploaded with the Files API, stored in the Google project of the key",
        });
      }
    });
  });
  return uses;
}
