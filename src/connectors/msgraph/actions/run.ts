/**
 * One activity's exchanges with Microsoft Graph, on the kit's activity run (kit/activity/run.ts: one deadline
 * of spec.event.timeout, 429/503 waited out within it for every method but POST, a POST never sent twice, the
 * Exception texts). What is Graph's own: the session (cached per connector, sessions.ts, over the connector's MSAL
 * credential and its token), paths under `graphUrl/v1.0`, the task's spec.event.headers, and a Graph error answer
 * turned into an ActivityFailure with Graph's code and message (`POST /v1.0/users answered 400 Bad Request:
 * Request_BadRequest: Another object with the same value for property userPrincipalName already exists.`).
 * Values the activity adds (a first-login password) are scrubbed from every text of the run.
 */
import { type HttpMethod, type HttpResponse, statusText } from '../../../transport/http-client.js';
import { excerpt, SecretScrubber } from '../../../transport/scrub.js';
import { ActivityFailure, ActivityRunBase, notResentNote, parseBody, runActivity } from '../../kit/activity/run.js';
import type { ActionContext, ActionResult } from '../../types.js';
import { graphError } from '../api.js';
import { graphUrl } from '../config.js';
import { evictCredential } from '../credentials.js';
import type { GraphSession } from '../session.js';
import { leaseGraphActionSession } from './sessions.js';

export { ActivityFailure, completed, record, text } from '../../kit/activity/run.js';

export const WRITE_PERMISSIONS =
  'grant the app registration the application permissions the activity writes with (User.ReadWrite.All, ' +
  'Group.ReadWrite.All, GroupMember.ReadWrite.All, or the permission of the object class) with admin consent';

export interface Answer {
  status: number;
  body: unknown;
}

export interface RequestOptions {
  /** Statuses taken as an answer rather than a failure (a 404 a verify reads as "not found"). */
  accept?: number[];
  headers?: Record<string, string>;
}

/** The cached session of the connector; a TLS failure evicts it (kit run) and the credential with it. */
async function openSession(ctx: ActionContext) {
  const lease = await leaseGraphActionSession(ctx);
  return {
    session: lease.session,
    release: lease.release,
    evict: () => {
      lease.evict();
      evictCredential(ctx.namespace, ctx.connector.metadata.name);
    },
  };
}

export class GraphActivityRun extends ActivityRunBase<GraphSession> {
  /** Made on first use: most activities register nothing. */
  private added?: SecretScrubber;

  constructor(ctx: ActionContext) {
    super(ctx, openSession, 'Graph');
  }

  /** Registers a value the activity made or read (a password): it is scrubbed from every text of the run. */
  addSecret(value: string): void {
    this.added ??= new SecretScrubber();
    this.added.add(value);
  }

  async host(): Promise<URL> {
    return (await this.session()).host;
  }

  /** One request to a Graph path (`/users/{id}`); throws ActivityFailure for an answer outside 2xx. */
  async request(method: HttpMethod, path: string, body?: unknown, options: RequestOptions = {}): Promise<Answer> {
    const session = await this.session();
    const url = graphUrl(session.host, path);
    const res = await this.exchange(session, method, url, body, options.headers);
    if ((res.status >= 200 && res.status < 300) || options.accept?.includes(res.status)) {
      return { status: res.status, body: parseBody(res.body) };
    }
    throw this.refusal(method, res);
  }

  /** One request to a URL the caller checked (restCall); returns the answer whatever its status. */
  async send(method: HttpMethod, url: URL, body?: string): Promise<HttpResponse> {
    const session = await this.session();
    return this.exchange(session, method, url, body);
  }

  private exchange(
    session: GraphSession,
    method: HttpMethod,
    url: URL,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpResponse> {
    this.what = `${method} ${url.pathname}`;
    // The task's headers (spec.event.headers) per call: the cached session is the connector's, for every task.
    const all = { ...this.ctx.task.spec.event?.headers, ...headers };
    return session.api.call(method, url, body, all, this.exchangeOptions(method));
  }

  scrub(text: string): string {
    const scrubbed = this.lease?.session.scrub(text) ?? text;
    return this.added ? this.added.scrub(scrubbed) : scrubbed;
  }

  /** Graph's error as the Exception text: the request, the status, Graph's code and message. */
  private refusal(method: HttpMethod, res: HttpResponse): ActivityFailure {
    const { code, message } = graphError(res.body);
    const said = [code, message ?? (res.body.trim() ? excerpt(res.body) : undefined)].filter(Boolean).join(': ');
    const hint = res.status === 403 ? `; ${WRITE_PERMISSIONS}` : notResentNote(method, res.status);
    const response = parseBody(this.scrub(res.body));
    return new ActivityFailure(
      this.scrub(`${this.what} answered ${statusText(res.status)}${said ? `: ${said}` : ''}${hint}`),
      res.status,
      response,
    );
  }
}

/** Runs an activity body with its own GraphActivityRun; failures become Exception results. */
export function activity(
  ctx: ActionContext,
  body: (run: GraphActivityRun) => Promise<ActionResult>,
): Promise<ActionResult> {
  return runActivity(new GraphActivityRun(ctx), body);
}
