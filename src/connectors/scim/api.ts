/**
 * SCIM requests of one session: the auth header, `Accept: application/scim+json`, the call count, JSON parsing,
 * and SCIM error bodies (`{status, scimType, detail}`) turned into messages that say what the server refused.
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
import { describeTarget } from '../../transport/url.js';
import type { Authenticator } from '../kit/auth/index.js';
import { parseJsonBody } from '../kit/json-body.js';
import { isRecord } from '../kit/markers.js';
import type { PageResponse } from '../kit/paging/strategy.js';
import { ExtractError } from '../types.js';

export const AUTH_HINT = 'the SCIM service account was refused; check spec.scim.auth and its secret';

export interface ScimApiOptions {
  http: HttpClient;
  auth: Authenticator;
  log: Logger;
  scrub: (text: string) => string;
  /** The connector's base path: requests are named by what follows it (`GET /Users`). */
  basePath: string;
}

/** A SCIM error answer: the HTTP status, the scimType (invalidFilter, tooMany, ...) and the server's detail. */
export class ScimRefusal extends ExtractError {
  constructor(
    message: string,
    readonly httpStatus: number,
    readonly scimType: string | undefined,
  ) {
    super(message);
  }
}

export class ScimApi {
  private calls = 0;

  constructor(private readonly options: ScimApiOptions) {}

  get callsMade(): number {
    return this.calls;
  }

  /** A request as messages name it: the method and the path after the base path, no query string. */
  describe(url: URL, method = 'GET'): string {
    const { basePath } = this.options;
    const path = url.pathname.startsWith(basePath) ? url.pathname.slice(basePath.length) || '/' : url.pathname;
    return `${method} ${path}`;
  }

  /** One counted GET that must answer 2xx with JSON; anything else throws (ScimRefusal for 4xx). */
  async getJson(url: URL): Promise<PageResponse> {
    const res = await this.get(url);
    const where = this.describe(url);
    if (res.status < 200 || res.status >= 300) throw refusal(where, res, this.options.scrub);
    return { url, status: res.status, headers: res.headers, body: parseJsonBody(res.body, where) };
  }

  /** One counted GET returning any non-transient answer (the connection check reads statuses itself). */
  async get(url: URL, options: { returnLastAnswer?: boolean } = {}): Promise<HttpResponse> {
    this.calls++;
    const { headers } = await this.options.auth.authorize();
    const started = Date.now();
    const res = await this.options.http.send(
      { method: 'GET', url, headers: { Accept: 'application/scim+json, application/json', ...headers } },
      options,
    );
    this.options.log.debug(
      {
        request: describeTarget('GET', url, this.options.scrub),
        host: url.host,
        status: res.status,
        ms: Date.now() - started,
      },
      'SCIM call',
    );
    return res;
  }

  /**
   * One counted request of an event activity with a JSON body (an object, or a string that already is the JSON
   * text; sent as application/scim+json), under the caller's signal and retry policy; returns the answer
   * whatever its status.
   */
  async call(method: HttpMethod, url: URL, body: unknown, options: ExchangeOptions): Promise<HttpResponse> {
    this.calls++;
    const { headers } = await this.options.auth.authorize();
    const started = Date.now();
    const res = await this.options.http.exchange(
      {
        method,
        url,
        headers: {
          Accept: 'application/scim+json, application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/scim+json' }),
          ...headers,
        },
        body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
      },
      options,
    );
    const request = this.describe(url, method);
    this.options.log.debug({ request, status: res.status, ms: Date.now() - started }, 'SCIM call');
    return res;
  }
}

/** The SCIM error body's scimType and detail, when the answer is one. */
export function scimError(body: string): { scimType?: string; detail?: string } {
  try {
    const json = JSON.parse(body) as unknown;
    if (!isRecord(json)) return {};
    return {
      scimType: typeof json.scimType === 'string' ? json.scimType : undefined,
      detail: typeof json.detail === 'string' ? json.detail : undefined,
    };
  } catch {
    return {};
  }
}

function refusal(where: string, res: HttpResponse, scrub: (t: string) => string): ScimRefusal {
  const { scimType, detail } = scimError(res.body);
  const answer = `${where} answered ${statusText(res.status)}`;
  if (res.status === 401 || res.status === 403) return new ScimRefusal(`${answer}: ${AUTH_HINT}`, res.status, scimType);
  const text = detail ?? (res.body.trim() ? excerpt(res.body) : '');
  const said = [scimType, text ? scrub(excerpt(text)) : undefined].filter(Boolean).join(': ');
  return new ScimRefusal(`${answer}${said ? `: ${said}` : ''}`, res.status, scimType);
}
