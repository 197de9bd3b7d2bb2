/**
 * One activity's exchanges with the SCIM server, on the kit's activity run (kit/activity/run.ts: one deadline,
 * the retry rules, the Exception texts). What is SCIM's own: requests on the cached session with SCIM's media
 * type, the server's features, and a SCIM error answer turned into an ActivityFailure with the server's
 * scimType and detail (`POST /Users answered 409 Conflict: uniqueness: userName "ada" already exists`).
 */
import { type HttpMethod, type HttpResponse, statusText } from '../../../transport/http-client.js';
import { excerpt } from '../../../transport/scrub.js';
import { ActivityFailure, ActivityRunBase, notResentNote, parseBody, runActivity } from '../../kit/activity/run.js';
import type { ActionContext, ActionResult } from '../../types.js';
import { AUTH_HINT, scimError } from '../api.js';
import { endpoint } from '../config.js';
import { features, type ProviderFeatures } from '../provider.js';
import { type EventSession, leaseScimSession } from './sessions.js';

export { ActivityFailure, completed, record, text } from '../../kit/activity/run.js';

export interface Answer {
  status: number;
  body: unknown;
}

export class ActivityRun extends ActivityRunBase<EventSession> {
  constructor(ctx: ActionContext) {
    super(ctx, (c) => leaseScimSession(c), 'SCIM');
  }

  async base(): Promise<URL> {
    return (await this.session()).scim.baseUrl;
  }

  /** One request; throws ActivityFailure for an answer outside 2xx unless `accept` takes its status. */
  async request(method: HttpMethod, path: string, body?: unknown, accept: number[] = []): Promise<Answer> {
    const session = await this.session();
    const url = endpoint(session.scim.baseUrl, path);
    const res = await this.exchange(session, method, url, body, session.scim.api.describe(url, method));
    if ((res.status >= 200 && res.status < 300) || accept.includes(res.status)) {
      return { status: res.status, body: parseBody(res.body) };
    }
    throw this.refusal(method, res, session);
  }

  /** One request to a URL the caller checked (restCall); returns the answer whatever its status. */
  async send(method: HttpMethod, url: URL, body?: string): Promise<HttpResponse> {
    return this.exchange(await this.session(), method, url, body, `${method} ${url.pathname}`);
  }

  /** Sends under the activity's deadline and retry rules; a 401 drops the session (its credentials failed). */
  private async exchange(
    session: EventSession,
    method: HttpMethod,
    url: URL,
    body: unknown,
    what: string,
  ): Promise<HttpResponse> {
    this.what = what;
    const res = await session.scim.api.call(method, url, body, this.exchangeOptions(method));
    if (res.status === 401) this.lease?.evict();
    return res;
  }

  scrub(text: string): string {
    return this.lease?.session.scim.scrub(text) ?? text;
  }

  /** The server's features, read once per session. */
  async features(): Promise<ProviderFeatures> {
    const session = await this.session();
    session.features ??= features((await this.request('GET', '/ServiceProviderConfig')).body);
    return session.features;
  }

  private refusal(method: HttpMethod, res: HttpResponse, session: EventSession): ActivityFailure {
    const scrub = (t: string): string => session.scim.scrub(t);
    const answer = `${this.what} answered ${statusText(res.status)}`;
    const response = parseBody(scrub(res.body));
    if (res.status === 401 || res.status === 403) return new ActivityFailure(`${answer}: ${AUTH_HINT}`, res.status);
    const { scimType, detail } = scimError(res.body);
    const text = detail ?? (res.body.trim() ? res.body : '');
    const said = [scimType, text ? scrub(excerpt(text)) : undefined].filter(Boolean).join(': ');
    return new ActivityFailure(
      `${answer}${said ? `: ${said}` : ''}${notResentNote(method, res.status)}`,
      res.status,
      response,
    );
  }
}

/** Runs an activity body with its own ActivityRun; failures become Exception results. */
export function activity(ctx: ActionContext, body: (run: ActivityRun) => Promise<ActionResult>): Promise<ActionResult> {
  return runActivity(new ActivityRun(ctx), body);
}
