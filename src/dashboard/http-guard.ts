import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { YadtqError } from '../core/errors.ts';
import { isLoopback, requestToken, tokenMatches } from './auth.ts';

/** The cookie a browser holds once it logged in with the token. */
export const SESSION_COOKIE = 'yadtq_session';

/** Options of {@link HttpGuard}. */
export interface HttpGuardOptions {
  /** The address the server is bound to (a wildcard such as `0.0.0.0` names no host). */
  host: string;
  /** Further host names requests may be sent to (`--allowed-host`, e.g. behind a proxy). */
  allowedHosts?: readonly string[];
  /** With a token, every request needs it (header or session cookie). */
  token?: string;
  /** The port the server listens on, once known: an Origin must name it too. */
  port(): number;
}

/** Why a request was refused, and the status to answer with. */
export type Refusal = { status: 401 | 403; error: string };

/**
 * The lock in front of the dashboard and the worker's metrics server.
 *
 * - Without a token only requests sent to an allowed host are served: a loopback name,
 *   the bound address or an `allowedHosts` entry. A page on another name that a DNS
 *   rebinding pointed at this machine sends its own name as Host, and is refused.
 * - An Origin header, when sent, must be an allowed host on this server's port (with a
 *   token, also the Host the request was sent to): a page elsewhere cannot drive it.
 * - With a token every request carries it, as `Authorization: Bearer`, `X-Yadtq-Token`,
 *   or the session cookie a browser gets from the login form ({@link sessionCookie}).
 */
export class HttpGuard {
  readonly #allowed: Set<string>;
  readonly #bound: string | undefined;
  readonly #token: string | undefined;
  readonly #session: string | undefined;
  readonly #port: () => number;

  /** @throws YadtqError INVALID_OPTION for an empty or malformed allowed host. */
  constructor(options: HttpGuardOptions) {
    this.#allowed = new Set();
    const bound = normalHost(options.host);
    this.#bound = bound === undefined || isWildcard(bound) ? undefined : bound;
    for (const host of options.allowedHosts ?? []) {
      const name = normalHost(host);
      if (name === undefined || name.includes('/')) {
        throw new YadtqError(
          'INVALID_OPTION',
          `allowed host ${JSON.stringify(host)} is not a host name`,
        );
      }
      this.#allowed.add(name);
    }
    this.#token = options.token;
    this.#session =
      options.token === undefined
        ? undefined
        : createHmac('sha256', options.token).update('yadtq session v1').digest('base64url');
    this.#port = options.port;
  }

  /** Whether requests need the token. */
  get tokenRequired(): boolean {
    return this.#token !== undefined;
  }

  /** True when the host name is one requests may be sent to without a token. */
  allows(hostname: string): boolean {
    return isLoopback(hostname) || hostname === this.#bound || this.#allowed.has(hostname);
  }

  /** Host and Origin checks; null when the request may go on (to the token check). */
  checkOrigin(request: IncomingMessage): Refusal | null {
    const host = hostOf(request.headers.host);
    if (this.#token === undefined && (host === undefined || !this.allows(host))) {
      return {
        status: 403,
        error: `host ${JSON.stringify(request.headers.host ?? '')} is not served here (allowed: loopback names, the bound address, --allowed-host)`,
      };
    }
    const origin = request.headers.origin;
    if (origin === undefined) return null;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return { status: 403, error: 'cross-origin request refused' };
    }
    const name = url.hostname.toLowerCase();
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    // Another port of this machine is another site (a local dev server, say); an allowed
    // host name is usually a proxy in front, on a port of its own.
    const allowed =
      this.#allowed.has(name) ||
      (port === this.#port() && this.allows(name)) ||
      (this.#token !== undefined && url.host === request.headers.host);
    return allowed ? null : { status: 403, error: 'cross-origin request refused' };
  }

  /** The token check (after {@link checkOrigin}); null when it passes or none is set. */
  checkToken(request: IncomingMessage): Refusal | null {
    if (this.#token === undefined || this.hasToken(request)) return null;
    return { status: 401, error: 'a valid token is required (Authorization: Bearer <token>)' };
  }

  /** Both checks in order; null when the request may be served. */
  check(request: IncomingMessage): Refusal | null {
    return this.checkOrigin(request) ?? this.checkToken(request);
  }

  /** True when the request carries the token, in a header or as the session cookie. */
  hasToken(request: IncomingMessage): boolean {
    if (this.#token === undefined) return true;
    const given = requestToken(request);
    if (given !== undefined) return tokenMatches(given, this.#token);
    const cookie = cookieValue(request.headers.cookie, SESSION_COOKIE);
    return cookie !== undefined && tokenMatches(cookie, this.#session!);
  }

  /** True when `given` is the token. */
  matches(given: string): boolean {
    return this.#token !== undefined && tokenMatches(given, this.#token);
  }

  /** The `Set-Cookie` value of a logged-in browser (the token itself never leaves the form). */
  sessionCookie(): string {
    return `${SESSION_COOKIE}=${this.#session ?? ''}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /** The `Set-Cookie` value that logs a browser out. */
  clearedCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }
}

/**
 * Answers a refusal as plain text (JSON for `/api/` paths), with `WWW-Authenticate` on a
 * 401 so that scripts know to send a bearer token.
 */
export function refuse(response: ServerResponse, refusal: Refusal, json: boolean): void {
  response.writeHead(refusal.status, {
    'content-type': json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    ...(refusal.status === 401 ? { 'www-authenticate': 'Bearer realm="yadtq"' } : {}),
  });
  response.end(json ? JSON.stringify({ error: refusal.error }) : `${refusal.error}\n`);
}

const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::\d{1,5})?$/;

/** The host name of a Host header value (`name`, `name:port`, `[v6]:port`), lower case. */
function hostOf(header: string | undefined): string | undefined {
  return HOST_HEADER.exec((header ?? '').toLowerCase())?.[1];
}

function normalHost(host: string): string | undefined {
  const trimmed = host.trim().toLowerCase();
  if (trimmed === '') return undefined;
  const bare = trimmed.replace(/^\[|\]$/g, '');
  return bare.includes(':') ? `[${bare}]` : bare;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '[::]' || host === '::';
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
