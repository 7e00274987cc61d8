import { createHash } from 'node:crypto';

const STYLE = `body{margin:0;min-height:100vh;display:grid;place-items:center;background:#0b1020;color:#e6ebf5;font:15px/1.5 system-ui,sans-serif}
form{background:#131a2e;border:1px solid #263052;border-radius:12px;padding:28px;width:min(360px,90vw);display:grid;gap:12px}
h1{margin:0;font-size:20px}p{margin:0;color:#9aa6c3}.error{color:#f87171}
input,button{font:inherit;padding:9px 12px;border-radius:8px;border:1px solid #263052;background:#0b1020;color:inherit}
button{background:#38bdf8;color:#0b1020;border:0;font-weight:600;cursor:pointer}`;

/** The Content-Security-Policy of the login page: its one inline style, by hash, and nothing else. */
export const LOGIN_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; form-action 'self'; frame-ancestors 'none'`;

/**
 * The login form a browser gets for any page of a dashboard with a token: it posts the
 * token to `/login`, which answers with the session cookie. Self-contained (no script, no
 * other request), so nothing else is served without the token.
 */
export function loginPage(error?: string): string {
  const message =
    error === undefined ? '' : `<p class="error" id="login-error">${escapeHtml(error)}</p>`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>yadtq dashboard: log in</title><style>${STYLE}</style></head>
<body>
<form method="post" action="/login" id="login-form">
<h1>yadtq dashboard</h1>
<p>This dashboard needs the token it was started with (<code>--token</code>).</p>
${message}<input id="login-token" name="token" type="password" placeholder="token" autocomplete="current-password" required autofocus>
<button type="submit" id="login-submit">Log in</button>
</form>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
