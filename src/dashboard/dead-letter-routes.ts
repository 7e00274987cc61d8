import type { IncomingMessage, ServerResponse } from 'node:http';
import { isYadtqError } from '../core/errors.ts';
import { type DeadLetterFilter, parseSince } from '../core/redrive-filter.ts';
import { errorMessage, json, readBody } from './http-io.ts';
import type { ResolvedDashboardOptions } from './options.ts';

/** Largest replay request body: filters and up to a few thousand chosen entries. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * `GET /api/dead-letters?limit=N`: the newest dead letters with their replay marks.
 * `POST /api/dead-letters/replay` with a JSON filter (`reason`, `task`, `since` as an ISO
 * time, a duration ago or ms, `entries`, `limit`) and `dryRun`: the replay's report.
 * Both behind the same locks as every route (token, origin); 501 without dead-letter
 * actions.
 */
export async function deadLetterRoute(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  options: Pick<ResolvedDashboardOptions, 'deadLetters' | 'logger'>,
): Promise<void> {
  const method = request.method ?? 'GET';
  const { deadLetters, logger } = options;
  if (url.pathname === '/api/dead-letters') {
    request.resume();
    if (method !== 'GET' && method !== 'HEAD')
      return json(response, 405, { error: 'use GET' }, { allow: 'GET' });
    if (deadLetters === undefined)
      return json(response, 501, { error: 'dead letters are not available' });
    const limit = Number(url.searchParams.get('limit') ?? 50);
    if (!(Number.isInteger(limit) && limit > 0 && limit <= 1000))
      return json(response, 400, { error: 'limit must be a whole number from 1 to 1000' });
    return json(response, 200, { deadLetters: await deadLetters.list(limit) });
  }
  if (url.pathname !== '/api/dead-letters/replay') {
    request.resume();
    return json(response, 404, { error: `nothing at ${url.pathname}` });
  }
  if (method !== 'POST') {
    request.resume();
    return json(response, 405, { error: 'use POST' }, { allow: 'POST' });
  }
  if (deadLetters === undefined) {
    request.resume();
    return json(response, 501, { error: 'replay is not available' });
  }
  const body = await readBody(request, MAX_BODY_BYTES);
  if (body === null) return json(response, 413, { error: `over ${MAX_BODY_BYTES} bytes` });
  const asked = parseRequest(body);
  if (typeof asked === 'string') return json(response, 400, { error: asked });
  try {
    const report = await deadLetters.replay(asked.filter, { dryRun: asked.dryRun });
    if (!asked.dryRun) {
      logger.info('dashboard dead-letter replay', {
        filter: JSON.stringify(asked.filter),
        replayed: report.replayed,
        refused: report.refused,
      });
    }
    json(response, 200, { ok: true, report });
  } catch (error) {
    const code = isYadtqError(error) ? error.code : undefined;
    json(response, code === 'INVALID_OPTION' ? 400 : 500, { error: errorMessage(error), code });
  }
}

/** The filter and dry-run switch of a replay request, or what is wrong with it. */
function parseRequest(body: string): { filter: DeadLetterFilter; dryRun: boolean } | string {
  let value: unknown;
  try {
    value = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    return 'the body must be a JSON object';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'the body must be a JSON object';
  const { dryRun, since, ...rest } = value as Record<string, unknown>;
  const known = ['reason', 'task', 'entries', 'limit'];
  const unknown = Object.keys(rest).find((key) => !known.includes(key));
  if (unknown !== undefined) return `unknown field "${unknown}"`;
  if (dryRun !== undefined && typeof dryRun !== 'boolean') return 'dryRun must be true or false';
  const filter = rest as DeadLetterFilter;
  if (typeof since === 'string' && since !== '') {
    const at = parseSince(since, Date.now());
    if (at === undefined) return 'since must be an ISO time or a duration ago (30m, 2h, 1d)';
    filter.since = at;
  } else if (since !== undefined && since !== '') filter.since = since as number;
  return { filter, dryRun: dryRun === true };
}
