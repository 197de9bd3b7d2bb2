/** POST /api/v1/namespaces/{ns}/tasks/{name}/invoke: event task invocation (bearer token required). */
import type { InvocationService } from '../invocations/invocation-service.js';
import { Refusal } from '../model/errors.js';
import { type HttpServer, httpError } from './http-server.js';

const MAX_IDEMPOTENCY_KEY = 200;

export function mountInvokeApi(server: HttpServer, service: InvocationService): void {
  server.route(
    'POST',
    '/api/v1/namespaces/{ns}/tasks/{name}/invoke',
    true,
    async ({ req, res, params, caller, body }) => {
      const idempotencyKey = header(req.headers['idempotency-key']);
      if (idempotencyKey !== undefined && (idempotencyKey === '' || idempotencyKey.length > MAX_IDEMPOTENCY_KEY)) {
        throw new Refusal('invalid', `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY} characters`);
      }
      const replay = header(req.headers['idempotency-replay']);
      if (replay !== undefined && replay.trim().toLowerCase() !== 'force') {
        throw new Refusal('invalid', 'Idempotency-Replay takes one value: force');
      }
      if (replay !== undefined && idempotencyKey === undefined) {
        throw new Refusal('invalid', 'Idempotency-Replay: force needs an Idempotency-Key (the call to replay)');
      }
      const type = String(req.headers['content-type'] ?? '');
      if (!/^application\/json\b/i.test(type))
        throw httpError(415, 'send the invocation as Content-Type: application/json');
      // A caller that hangs up stops waiting on the upstream too. (The request's own 'close' fires as
      // soon as its body is read; only a response closed before it finished means the caller left.)
      const gone = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) gone.abort();
      });
      const answer = await service.invoke(params.ns, params.name, await body(), {
        caller: caller ?? 'anonymous',
        idempotencyKey,
        replay: replay === undefined ? undefined : 'force',
        signal: gone.signal,
      });
      return { status: answer.status, body: answer.body, headers: answer.headers };
    },
  );
}

const header = (raw: string | string[] | undefined): string | undefined => (Array.isArray(raw) ? raw[0] : raw);
