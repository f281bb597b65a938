// The two HTML pages. No template engine: every dynamic value goes through escapeHtml.
import { APP_NAME } from './keyward-oauth.js';

export function landingPage({ notice, keywardBaseUrl }: { notice?: string | undefined; keywardBaseUrl: string }): string {
  return layout(
    'Sign in',
    `<main class="narrow">
  <h1>${escapeHtml(APP_NAME)}</h1>
  <p>This app talks to LLMs through Keyward’s Model Router <strong>as you</strong>: it uses the model keys your Keyward account may use, and never sees them.</p>
  ${noticeBlock(notice)}
  <p><a class="button" href="/login">Sign in with Keyward</a></p>
  <p class="muted">You will sign in at <code>${escapeHtml(keywardBaseUrl)}</code> and be asked to allow this app to use the Model Router for you.</p>
</main>`,
  );
}

export function chatPage({
  models,
  selectedModel,
  csrfToken,
  notice,
}: {
  models: string[];
  selectedModel: string;
  csrfToken: string;
  notice?: string | undefined;
}): string {
  const options = (models.includes(selectedModel) ? models : [selectedModel, ...models])
    .map((id) => `<option value="${escapeHtml(id)}"${id === selectedModel ? ' selected' : ''}>${escapeHtml(id)}</option>`)
    .join('');
  return layout(
    'Chat',
    `<header>
  <h1>${escapeHtml(APP_NAME)}</h1>
  <form method="post" action="/logout">
    <input type="hidden" name="csrf_token" value="${escapeHtml(csrfToken)}">
    <button type="submit" class="secondary">Sign out</button>
  </form>
</header>
<main>
  ${noticeBlock(notice)}
  <section id="conversation" role="log" aria-label="Conversation" aria-live="polite"></section>
  <p id="error" class="notice" role="alert" data-testid="error" hidden></p>
  <form id="chat" class="composer">
    <label for="model">Model</label>
    <select id="model" name="model">${options}</select>
    <label for="prompt">Prompt</label>
    <textarea id="prompt" name="prompt" rows="3" required placeholder="Ask anything. Enter sends, Shift+Enter adds a line."></textarea>
    <div class="actions">
      <button type="submit" id="send">Send</button>
      <button type="button" id="stop" class="secondary" hidden>Stop</button>
    </div>
  </form>
</main>`,
    `<meta name="csrf-token" content="${escapeHtml(csrfToken)}">
<script type="module" src="/chat.js"></script>`,
  );
}

function layout(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${escapeHtml(APP_NAME)}</title>
<link rel="stylesheet" href="/style.css">
${head}
</head>
<body>
${body}
</body>
</html>
`;
}

function noticeBlock(notice: string | undefined): string {
  return notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>` : '';
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
