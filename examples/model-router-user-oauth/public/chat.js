// The chat page. It talks only to this app's own server (which holds the tokens), and reads the
// answer as it streams: the server passes the Model Router's OpenAI-style SSE through unchanged.

const form = /** @type {HTMLFormElement} */ (document.getElementById('chat'));
const prompt = /** @type {HTMLTextAreaElement} */ (document.getElementById('prompt'));
const model = /** @type {HTMLSelectElement} */ (document.getElementById('model'));
const send = /** @type {HTMLButtonElement} */ (document.getElementById('send'));
const stop = /** @type {HTMLButtonElement} */ (document.getElementById('stop'));
const conversation = /** @type {HTMLElement} */ (document.getElementById('conversation'));
const errorBox = /** @type {HTMLElement} */ (document.getElementById('error'));
const csrfToken = /** @type {HTMLMetaElement} */ (document.querySelector('meta[name="csrf-token"]')).content;

/** @type {{role: 'user' | 'assistant', content: string}[]} */
const history = [];
/** @type {AbortController | undefined} */
let inFlight;

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = prompt.value.trim();
  if (text && !inFlight) void ask(text);
});

prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

stop.addEventListener('click', () => inFlight?.abort());

/** @param {string} text */
async function ask(text) {
  showError(undefined);
  const messages = [...history, { role: /** @type {const} */ ('user'), content: text }];
  const question = addTurn('user', text);
  const answer = addTurn('assistant', '');
  // The newest answer carries the test id, so there is always exactly one.
  conversation.querySelectorAll('[data-testid="answer"]').forEach((el) => el.removeAttribute('data-testid'));
  answer.dataset.testid = 'answer';
  prompt.value = '';
  setBusy(true);

  inFlight = new AbortController();
  try {
    const response = await fetch('/api/chat', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
      body: JSON.stringify({ model: model.value, messages }),
      signal: inFlight.signal,
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new ChatError(body?.error?.message ?? `The app answered HTTP ${response.status}.`, body?.error?.signIn === true, body?.error?.link);
    }
    const finished = await readStream(response, (delta) => {
      answer.textContent += delta;
    });
    if (!finished) throw new ChatError('The answer was cut off before it was complete.');
    history.push({ role: 'user', content: text }, { role: 'assistant', content: answer.textContent ?? '' });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') {
      answer.textContent += ' [stopped]';
    } else {
      if (!answer.textContent) {
        question.remove();
        answer.remove();
      }
      const chatError = error instanceof ChatError ? error : new ChatError('The app could not be reached. Is it still running?');
      showError(chatError.message, chatError.signIn, chatError.link);
      prompt.value = text; // nothing was answered: give the prompt back to retry
    }
  } finally {
    inFlight = undefined;
    setBusy(false);
    prompt.focus();
  }
}

/**
 * Reads OpenAI-style server-sent events and hands each content delta to onDelta.
 * @param {Response} response
 * @param {(delta: string) => void} onDelta
 * @returns {Promise<boolean>} true when the stream ended with `data: [DONE]`
 */
async function readStream(response, onDelta) {
  if (!response.body) return false;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += value;
    const events = buffer.split(/\r?\n\r?\n/);
    buffer = events.pop() ?? '';
    for (const event of events) {
      const data = event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (!data) continue;
      if (data === '[DONE]') return true;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new ChatError(chunk.error.message ?? 'The model stopped with an error.');
      const delta = chunk.choices?.[0]?.delta?.content;
      if (typeof delta === 'string') onDelta(delta);
    }
  }
}

/** @param {'user' | 'assistant'} role @param {string} text */
function addTurn(role, text) {
  const turn = document.createElement('div');
  turn.className = `turn ${role}`;
  turn.textContent = text;
  conversation.append(turn);
  return turn;
}

/** @param {string | undefined} message @param {boolean} [signIn] @param {{href: string, text: string}} [fix] */
function showError(message, signIn = false, fix = undefined) {
  errorBox.replaceChildren();
  errorBox.hidden = !message;
  if (!message) return;
  errorBox.append(message);
  if (signIn) {
    const link = document.createElement('a');
    link.href = '/login';
    link.textContent = 'Sign in with Keyward';
    errorBox.append(' ', link);
  }
  // Only Keyward's own pages (http/https) are linked: the text comes from the app's server.
  if (fix && typeof fix.href === 'string' && /^https?:\/\//.test(fix.href)) {
    const link = document.createElement('a');
    link.href = fix.href;
    link.textContent = String(fix.text);
    errorBox.append(' ', link);
  }
}

/** @param {boolean} busy */
function setBusy(busy) {
  send.disabled = busy;
  stop.hidden = !busy;
}

class ChatError extends Error {
  /** @param {string} message @param {boolean} [signIn] @param {{href: string, text: string}} [link] */
  constructor(message, signIn = false, link = undefined) {
    super(message);
    this.signIn = signIn;
    this.link = link;
  }
}
