/**
 * Graph requests of one run: the bearer token (a 401 fetches a fresh one once), the task's headers, the call
 * and throttle counts, JSON parsing, and Graph's error body (`{error: {code, message}}`) turned into a message
 * that says what Graph refused and what to change. Lists page through `@odata.nextLink` with the kit's loop
 * (paginate.ts), which also notices a link sent twice.
 */
import type { Logger } from '../../log/logger.js';
import {
  type ExchangeOptions,
  type HttpClient,
  type HttpMethod,
  type HttpResponse,
  statusText,
} from '../../transport/http-client.js';
import { excerpt } from '../../transport/scrub.js';
import type { Authenticator } from '../kit/auth/index.js';
import { parseJsonBody } from '../kit/json-body.js';
import { isRecord } from '../kit/markers.js';
import { type PagingOutcome, paginate } from '../kit/paging/paginate.js';
import type { PageResponse, PagingStrategy } from '../kit/paging/strategy.js';
import { ExtractError } from '../types.js';

export const PERMISSION_HINT =
  'grant the app registration the application permissions the task reads (User.Read.All, Group.Read.All, ' +
  'GroupMember.Read.All, or the permission of the queried path) with admin consent';

export interface GraphApiOptions {
  http: HttpClient;
  auth: Authenticator;
  log: Logger;
  scrub: (text: string) => string;
  /** Headers of every request of the task (spec.source.msgraph.headers). */
  headers?: Record<string, string>;
}

/** A Graph error answer: the HTTP status, Graph's error code and its message. */
export class GraphRefusal extends ExtractError {
  constructor(
    message: string,
    readonly httpStatus: number,
    readonly code: string | undefined,
    readonly location?: string,
  ) {
    super(message);
  }
}

export type GraphObject = Record<string, unknown>;

export interface Listing extends AsyncIterable<GraphObject[]> {
  /** Meaningful once iteration ended; `deltaLink` is the last page's, for delta rounds. */
  outcome(): PagingOutcome & { deltaLink?: string; count?: number };
}

export class GraphApi {
  calls = 0;
  throttled = 0;

  constructor(private readonly options: GraphApiOptions) {}

  /** Counts a retry of a throttled call (429, 503, 504); the HTTP client tells of every retry. */
  noteRetry(status: number | undefined): void {
    if (status === 429 || status === 503 || status === 504) this.throttled++;
  }

  /** A request as messages name it: method and path, no query string. */
  describe(url: URL, method = 'GET'): string {
    return `${method} ${url.pathname}`;
  }

  /** One counted request; a 401 fetches a fresh token and tries once more. Returns any answer. */
  send(url: URL, extra: Record<string, string> = {}, method: 'GET' | 'POST' = 'GET', body?: string) {
    return this.authorized(method, url, (token) =>
      this.options.http.send(
        { method, url, headers: this.headersFor(body !== undefined, extra, token), body },
        { returnLastAnswer: false },
      ),
    );
  }

  /**
   * One request of an event activity, under the activity's own deadline and retry policy (`options`); a 401
   * fetches a fresh token and tries once more. A string is sent as it is (JSON), an object serialized; bytes (a
   * photo) go as they are with the caller's Content-Type. Returns any answer.
   */
  call(
    method: HttpMethod,
    url: URL,
    body: unknown,
    extra: Record<string, string>,
    options: ExchangeOptions,
  ): Promise<HttpResponse> {
    const bytes = body instanceof Uint8Array;
    const payload = body === undefined || bytes || typeof body === 'string' ? body : JSON.stringify(body);
    return this.authorized(method, url, (token) =>
      this.options.http.exchange(
        { method, url, headers: this.headersFor(payload !== undefined && !bytes, extra, token), body: payload },
        options,
      ),
    );
  }

  private headersFor(json: boolean, extra: Record<string, string>, token: Record<string, string>) {
    return {
      Accept: 'application/json',
      ...(json ? { 'Content-Type': 'application/json' } : {}),
      ...this.options.headers,
      ...extra,
      ...token,
    };
  }

  /** Sends with the current token, counted and logged; a 401 fetches a fresh token and sends once more. */
  private async authorized(
    method: string,
    url: URL,
    exchange: (token: Record<string, string>) => Promise<HttpResponse>,
  ): Promise<HttpResponse> {
    let sent = await this.options.auth.authorize();
    for (let attempt = 1; ; attempt++) {
      this.calls++;
      const started = Date.now();
      const res = await exchange(sent.headers);
      this.options.log.debug(
        { request: this.describe(url, method), status: res.status, ms: Date.now() - started },
        'Graph call',
      );
      if (res.status !== 401 || attempt > 1 || !(await this.options.auth.refresh(sent))) return res;
      this.options.log.info({ request: this.describe(url, method) }, 'Graph refused the token; fetching a new one');
      sent = await this.options.auth.authorize();
    }
  }

  /** One GET that must answer 2xx with JSON; anything else throws a GraphRefusal. */
  async getJson(url: URL, extra: Record<string, string> = {}): Promise<PageResponse> {
    const res = await this.send(url, extra);
    if (res.status < 200 || res.status >= 300) throw refusal(this.describe(url), res, this.options.scrub);
    return { url, status: res.status, headers: res.headers, body: parseJsonBody(res.body, this.describe(url)) };
  }

  /** Every page of a Graph list (or delta round) from its first URL, following `@odata.nextLink`. */
  list(url: URL, extra: Record<string, string> = {}): Listing {
    const state: { deltaLink?: string; count?: number; paging?: ReturnType<typeof paginate> } = {};
    const api = this;
    const strategy: PagingStrategy = {
      first: (query) => ({ url: query }),
      next: ({ response }) => {
        const body = response.body as GraphObject;
        const link = body['@odata.nextLink'];
        if (typeof body['@odata.deltaLink'] === 'string') state.deltaLink = body['@odata.deltaLink'];
        if (typeof link !== 'string' || link === '') return undefined;
        return { url: sameOrigin(link, url, api.describe(url)), followed: { kind: 'link', value: link } };
      },
    };
    async function* pages(): AsyncGenerator<GraphObject[]> {
      state.paging = paginate({
        strategy,
        url,
        fetch: (u) => api.getJson(u, extra),
        rows: (response) => {
          const body = response.body;
          if (!isRecord(body) || !Array.isArray(body.value)) {
            throw new ExtractError(`the answer of ${api.describe(response.url)} has no "value" list`);
          }
          if (typeof body['@odata.count'] === 'number') state.count ??= body['@odata.count'];
          return body.value.filter(isRecord);
        },
      });
      for await (const page of state.paging) yield (page.rows ?? []) as GraphObject[];
    }
    return {
      [Symbol.asyncIterator]: pages,
      outcome: () => ({ ...(state.paging?.outcome() ?? { complete: true, rows: 0 }), ...state }),
    };
  }
}

/** Links stay on the Graph origin: the token goes with them. */
function sameOrigin(link: string, base: URL, where: string): URL {
  let url: URL;
  try {
    url = new URL(link, base);
  } catch {
    throw new ExtractError(`${where} sent a next link that is not a URL`);
  }
  if (url.origin !== base.origin) {
    throw new ExtractError(`${where} sent a next link to ${url.origin}, outside ${base.origin}; not followed`);
  }
  return url;
}

/** Graph's error code and message, when the body is one. */
export function graphError(body: string): { code?: string; message?: string } {
  try {
    const json = JSON.parse(body) as unknown;
    const error = isRecord(json) && isRecord(json.error) ? json.error : undefined;
    if (!error) return {};
    return {
      code: typeof error.code === 'string' ? error.code : undefined,
      message: typeof error.message === 'string' ? error.message : undefined,
    };
  } catch {
    return {};
  }
}

export function refusal(where: string, res: HttpResponse, scrub: (t: string) => string): GraphRefusal {
  const { code, message } = graphError(res.body);
  const answer = `${where} answered ${statusText(res.status)}`;
  const said = [code, message ?? (res.body.trim() ? excerpt(res.body) : undefined)].filter(Boolean).join(': ');
  const hint =
    res.status === 403
      ? `; ${PERMISSION_HINT}`
      : res.status === 401
        ? '; the token was refused twice: check the app registration and spec.msgraph.tenantId'
        : '';
  const location = res.headers.location;
  return new GraphRefusal(
    scrub(`${answer}${said ? `: ${said}` : ''}${hint}`),
    res.status,
    code,
    Array.isArray(location) ? location[0] : location,
  );
}
