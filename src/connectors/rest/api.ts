/**
 * API calls of one session: headers (automatic, connector, task, auth), the 401-refresh-retry of dynamic
 * tokens, the safety threshold, status checks, JSON parsing and the error marker. Pagination and
 * subqueries build on `getJson`; the connection check uses `probe`.
 */
import type { Logger } from '../../log/logger.js';
import { type HttpClient, type HttpResponse, statusText } from '../../transport/http-client.js';
import { excerpt } from '../../transport/scrub.js';
import { describeRequest, describeTarget } from '../../transport/url.js';
import { parseJsonBody } from '../kit/json-body.js';
import { ExtractError } from '../types.js';
import type { Authenticator, AuthState } from './auth.js';
import type { CallBudget } from './budget.js';
import { checkErrorMarker } from './records.js';

export interface ApiResponse {
  url: URL;
  status: number;
  headers: HttpResponse['headers'];
  body: unknown;
}

export interface RestApiOptions {
  http: HttpClient;
  auth: Authenticator;
  /** Connector and task headers, merged; auth headers are added per request. */
  headers: Record<string, string>;
  budget: CallBudget;
  errorMarker?: string;
  log: Logger;
}

/** Merges header maps case-insensitively; later maps win, keeping the spelling of the winner. */
export function mergeHeaders(...maps: Array<Record<string, string> | undefined>): Record<string, string> {
  const byLower = new Map<string, [string, string]>();
  for (const map of maps) for (const [k, v] of Object.entries(map ?? {})) byLower.set(k.toLowerCase(), [k, v]);
  return Object.fromEntries(byLower.values());
}

export class RestApi {
  constructor(private readonly options: RestApiOptions) {}

  get callsMade(): number {
    return this.options.budget.used;
  }

  /** A counted GET whose 2xx JSON body passed the error marker; any other outcome throws ExtractError. */
  async getJson(url: URL): Promise<ApiResponse> {
    this.options.budget.take();
    const where = describeRequest('GET', url);
    const started = Date.now();
    const res = await this.probe(url);
    this.options.log.debug(
      { request: describeTarget('GET', url), host: url.host, status: res.status, ms: Date.now() - started },
      'REST call',
    );
    if (res.status < 200 || res.status >= 300) {
      const hint =
        res.status === 401 || res.status === 403
          ? ' (check spec.rest.auth and its secret)'
          : res.status >= 300 && res.status < 400
            ? ' (redirects are not followed; point spec.rest.baseUrl at the final location)'
            : '';
      const detail = res.body.trim() ? `: ${excerpt(res.body)}` : '';
      throw new ExtractError(`${where} failed: ${statusText(res.status)}${hint}${detail}`);
    }
    const body = parseJsonBody(res.body, where);
    checkErrorMarker(body, this.options.errorMarker, where);
    return { url, status: res.status, headers: res.headers, body };
  }

  /**
   * An uncounted authenticated GET that returns any non-transient answer (transient ones are retried).
   * A 401 with a dynamic token fetches a new token once and repeats the request once.
   */
  async probe(url: URL, options: { returnLastAnswer?: boolean } = {}): Promise<HttpResponse> {
    const { http, auth, headers } = this.options;
    const send = async (state: AuthState): Promise<HttpResponse> =>
      http.send(
        { method: 'GET', url, headers: mergeHeaders({ Accept: 'application/json' }, headers, state.headers) },
        options,
      );
    const state = await auth.authorize();
    const res = await send(state);
    if (res.status === 401 && (await auth.refresh(state))) {
      this.options.log.info(
        { request: describeRequest('GET', url) },
        'REST API answered 401; retrying with a new token',
      );
      return send(await auth.authorize());
    }
    return res;
  }
}
