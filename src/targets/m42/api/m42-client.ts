/**
 * A client of the home solution's REST API v1 (shared/reference/m42-rest-api.md), shared by the `m42`
 * target (loads into the home solution) and the M42 connector (another instance). It logs in with the
 * WebAPI user (`POST /users/login`), reuses the token until its `exp` (when the JWT has one) and logs in
 * again once when a call answers 401. Calls go through the shared transport: reads retry 429, 5xx and
 * connection failures with backoff and Retry-After; writes retry only what cannot have reached the API
 * (429, a refused connection), because a bulk PUT that creates cards must never run twice — the caller
 * decides what to do after any other failure (the target looks the cards up again first).
 * The password and tokens are registered with the scrubber and never appear in a message.
 */
import type { Dispatcher } from 'undici';
import type { Logger } from '../../../log/logger.js';
import {
  DEFAULT_RETRY,
  errorCode,
  HttpClient,
  type HttpMethod,
  type HttpResponse,
  headerValue,
  type RetryOptions,
  type RetryPolicy,
} from '../../../transport/http-client.js';
import { SecretScrubber } from '../../../transport/scrub.js';
import { describeRequest } from '../../../transport/url.js';
import { apiErrorText, M42ApiError } from './errors.js';
import { tokenExpiry, tokenOf } from './jwt.js';

export interface M42Credentials {
  username: string;
  password: string;
}

export interface M42ClientOptions {
  /** `https://host/rest-api/itsm/v1`. */
  baseUrl: string;
  /** Read when a login is needed, so that a rotated Secret is picked up at the next login. */
  credentials(): Promise<M42Credentials>;
  dispatcher: Dispatcher;
  timeoutMs: number;
  log: Logger;
  /** Stops everything the client does. */
  signal: AbortSignal;
  retry?: Partial<RetryOptions>;
  /** The settings named in messages: the request timeout and the CA. */
  timeoutField: string;
  caField: string;
  /** How messages name the API: `the home solution`, `M42 connector partner-itsm`. */
  system: string;
  /** The scrubber the password and tokens are registered with (a session's own, so that its errors are scrubbed too). */
  scrubber?: SecretScrubber;
}

export interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Writes that create: only retried when the request cannot have arrived. */
  write?: boolean;
  /** Statuses that come back to the caller instead of throwing (a 409 of a card already in the trash). */
  accept?: readonly number[];
}

/** Writes are retried only when the API cannot have acted on them: throttled, or never connected. */
const WRITE_RETRY = (options: RetryOptions): RetryPolicy => ({
  ...options,
  retryStatus: (status) => status === 429,
  retryFailure: (e) => errorCode(e) === 'ECONNREFUSED',
});

export class M42Client {
  readonly base: URL;
  private readonly http: HttpClient;
  private readonly scrubber: SecretScrubber;
  private readonly retry: RetryOptions;
  private token: { value: string; expires?: number } | undefined;
  private login: Promise<string> | undefined;
  /** Calls sent (logins included), for run info and benchmarks. */
  calls = 0;

  constructor(private readonly o: M42ClientOptions) {
    this.scrubber = o.scrubber ?? new SecretScrubber();
    this.base = new URL(o.baseUrl.replace(/\/+$/, ''));
    this.retry = { ...DEFAULT_RETRY, ...o.retry };
    this.http = new HttpClient({
      dispatcher: o.dispatcher,
      timeoutMs: o.timeoutMs,
      timeoutField: o.timeoutField,
      caField: o.caField,
      retryMessage: `retrying a call to ${o.system}`,
      signal: o.signal,
      retry: this.retry,
      log: o.log,
      scrub: (t) => this.scrub(t),
      origins: new Set([this.base.origin]),
    });
  }

  scrub(text: string): string {
    return this.scrubber.scrub(text);
  }

  /** A call with the session's token; JSON in and out. Throws M42ApiError for an answer it does not accept. */
  async call<T>(method: HttpMethod, path: string, options: CallOptions = {}): Promise<{ status: number; body: T }> {
    let token = await this.currentToken();
    let res = await this.send(method, path, options, token);
    if (res.status === 401) {
      // The token expired early or was revoked: one new login, one more try.
      this.forget(token);
      token = await this.currentToken();
      res = await this.send(method, path, options, token);
    }
    return { status: res.status, body: this.parse<T>(method, path, res, options) };
  }

  /** `GET /echo?message=…` (no login) and `GET /echo/jwt?message=…` (with one): the connection test. */
  async echo(withLogin: boolean): Promise<string> {
    const message = 'provisio';
    if (!withLogin) {
      const res = await this.raw('GET', '/echo', { query: { message } });
      if (res.status !== 200) throw this.failure('GET', '/echo', res);
      return res.body;
    }
    const { body } = await this.call<unknown>('GET', '/echo/jwt', { query: { message } });
    return typeof body === 'string' ? body : JSON.stringify(body);
  }

  /** The URL of a path below the base, with query parameters form-encoded. */
  url(path: string, query: CallOptions['query'] = {}): URL {
    const url = new URL(`${this.base.href}${path.startsWith('/') ? path : `/${path}`}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private async currentToken(): Promise<string> {
    const t = this.token;
    if (t && (t.expires === undefined || Date.now() < t.expires)) return t.value;
    // Concurrent calls share one login.
    this.login ??= this.logIn().finally(() => {
      this.login = undefined;
    });
    return this.login;
  }

  private forget(token: string): void {
    if (this.token?.value === token) this.token = undefined;
  }

  private async logIn(): Promise<string> {
    const { username, password } = await this.o.credentials();
    this.scrubber.add(password);
    const body = new URLSearchParams({ login: username, password }).toString();
    this.scrubber.add(body);
    const res = await this.raw('POST', '/users/login', {
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    if (res.status === 401 || res.status === 403) {
      throw new M42ApiError(
        `${this.o.system} refused the login of WebAPI user "${username}" (HTTP ${res.status}): check the username and password in the Secret`,
        res.status,
      );
    }
    if (res.status !== 200) throw this.failure('POST', '/users/login', res);
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      json = undefined;
    }
    const token = tokenOf(json, headerValue(res.headers, 'authorization'));
    if (!token) throw new M42ApiError(`${this.o.system} answered the login without a token`, res.status);
    this.scrubber.add(token);
    this.token = { value: token, expires: tokenExpiry(token) };
    this.o.log.debug({ user: username }, `logged in to ${this.o.system}`);
    return token;
  }

  private send(method: HttpMethod, path: string, options: CallOptions, token: string): Promise<HttpResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    return this.raw(method, path, { query: options.query, headers, body, write: options.write });
  }

  private async raw(
    method: HttpMethod,
    path: string,
    o: { query?: CallOptions['query']; headers?: Record<string, string>; body?: string; write?: boolean },
  ): Promise<HttpResponse> {
    const url = this.url(path, o.query);
    this.calls++;
    try {
      return await this.http.exchange(
        { method, url, headers: { accept: 'application/json', ...o.headers }, body: o.body },
        o.write ? { retry: WRITE_RETRY(this.retry) } : {},
      );
    } catch (e) {
      if (this.o.signal.aborted) throw this.o.signal.reason;
      throw new M42ApiError(
        this.scrub(`${describeRequest(method, url)} on ${this.o.system} failed: ${(e as Error).message}`),
        0,
      );
    }
  }

  private parse<T>(method: HttpMethod, path: string, res: HttpResponse, options: CallOptions): T {
    const accepted = (res.status >= 200 && res.status < 300) || options.accept?.includes(res.status);
    if (!accepted) throw this.failure(method, path, res);
    if (res.body.trim() === '') return undefined as T;
    try {
      return JSON.parse(res.body) as T;
    } catch {
      return res.body as T;
    }
  }

  private failure(method: HttpMethod, path: string, res: HttpResponse): M42ApiError {
    const what = `${method} ${this.base.pathname}${path}`;
    return new M42ApiError(
      this.scrub(`${what} on ${this.o.system}: ${apiErrorText(res.status, res.body)}`),
      res.status,
    );
  }
}
