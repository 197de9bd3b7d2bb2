/**
 * The M42 connector's activities on event tasks, the seeds' workflow nodes "Create data card", "Update data
 * card" and "Delete data card" against another instance: `source.m42.templateCode` (and `folderCode` for new
 * cards) of the remote instance, the card found by the unique mapping. A refusal of the API is an Exception
 * with its own words; a create is never sent twice (the client retries writes only when they cannot have
 * arrived).
 */
import { parseDuration } from '../../../model/duration.js';
import type { WriteAnswer } from '../../../targets/m42/api/data-cards.js';
import { eqlAttribute, eqlLiteral } from '../../../targets/m42/api/eql.js';
import { attributeErrorsText, M42ApiError } from '../../../targets/m42/api/errors.js';
import type { TemplateInfo } from '../../../targets/m42/api/types.js';
import { DEFAULT_EVENT_TIMEOUT } from '../../kit/activity/run.js';
import {
  type ActionContext,
  type ActionHandler,
  type ActionResult,
  InvalidInvocationError,
  type InvokeData,
} from '../../types.js';
import { m42Source } from '../extract.js';
import type { M42Session } from '../session.js';
import { cardData, genericMapping, uniqueOf } from './card-data.js';
import { leaseM42Session } from './sessions.js';

type Work = (s: M42Session, template: TemplateInfo, ctx: ActionContext, data: InvokeData) => Promise<ActionResult>;

const completed = (statusCode: number, response: unknown): ActionResult => ({
  state: 'Completed',
  statusCode,
  response,
  exception: null,
});

/** Runs one activity on the connector's cached session, within the task's event timeout. */
function activity(work: Work): ActionHandler {
  return async (ctx, _input, data) => {
    const source = m42Source(ctx);
    genericMapping(ctx.task);
    const lease = await leaseM42Session(ctx);
    const timeoutMs = parseDuration(ctx.task.spec.event?.timeout ?? DEFAULT_EVENT_TIMEOUT);
    const deadline = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
    try {
      const template = await raceWith(lease.session.templates.get(source.templateCode), deadline);
      if (!template) {
        return exception(
          0,
          `the other instance has no template "${source.templateCode}" (spec.source.m42.templateCode)`,
        );
      }
      return await raceWith(work(lease.session, template, ctx, data), deadline);
    } catch (e) {
      if (e instanceof InvalidInvocationError) throw e;
      if (e instanceof M42ApiError && e.status === 401) lease.evict();
      if (deadline.aborted && !ctx.signal.aborted)
        return exception(0, `no answer within spec.event.timeout (${timeoutMs / 1000}s)`);
      return exception(e instanceof M42ApiError ? e.status : 0, lease.session.client.scrub((e as Error).message));
    } finally {
      lease.release();
    }
  };
}

function exception(status: number, message: string): ActionResult {
  return { state: 'Exception', ...(status > 0 ? { statusCode: status } : {}), response: null, exception: message };
}

/** The promise, or a rejection when the signal aborts first (the call itself ends with the session's timeout). */
function raceWith<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

/** The remote card whose unique attribute has the value `data` carries; `deleted`: look in the trash. */
async function findCard(s: M42Session, template: TemplateInfo, ctx: ActionContext, data: InvokeData, deleted = false) {
  const u = uniqueOf(genericMapping(ctx.task));
  const value = data[u.local];
  if (value === undefined || value === null || value === '' || typeof value === 'object') {
    throw new InvalidInvocationError(
      `data.${u.local} is required: the unique mapping (${u.local} → ${u.external}) finds the remote card`,
    );
  }
  const filter = `${eqlAttribute(u.external)} = ${eqlLiteral(String(value))}${deleted ? ' AND entity.deleted = 1' : ''}`;
  const page = await s.cards.page(template.code, { filter, selectedAttributes: [u.external] }, 2);
  const cards = page.data ?? [];
  return { cards, what: `${template.code} card with ${u.external} = ${String(value)}` };
}

/**
 * Completed with the card's id and name; attributes the API refused to write (a static value it does not
 * know) make it an Exception naming them, since the card does not hold what the workflow sent.
 */
function written(status: number, answer: WriteAnswer): ActionResult {
  const card = { dataCardId: answer.dataCard?.dataCardId ?? null, name: answer.dataCard?.name ?? null };
  const errors = answer.meta?.errors ?? [];
  if (errors.length > 0) {
    return {
      state: 'Exception',
      statusCode: status,
      response: card,
      exception: `the card was saved without: ${attributeErrorsText(errors)}`,
    };
  }
  return completed(status, card);
}

const createDataCard: Work = async (s, template, ctx, data) => {
  const source = m42Source(ctx);
  const folderCode = source.folderCode ?? template.allowedFolders?.[0]?.folderCode ?? '';
  const answer = await s.cards.create(template.code, folderCode, cardData(ctx.task, template, data));
  return written(201, answer);
};

const updateDataCard: Work = async (s, template, ctx, data) => {
  const write = cardData(ctx.task, template, data);
  const { cards, what } = await findCard(s, template, ctx, data);
  if (cards.length !== 1)
    return exception(cards.length === 0 ? 404 : 409, cards.length === 0 ? `no ${what}` : `more than one ${what}`);
  const answer = await s.cards.patch(template.code, cards[0].dataCardId, write);
  return written(200, { ...answer, dataCard: { ...cards[0], ...answer.dataCard } });
};

const deleteDataCard: Work = async (s, template, ctx, data) => {
  const { cards, what } = await findCard(s, template, ctx, data);
  if (cards.length > 1) return exception(409, `more than one ${what}`);
  if (cards.length === 0) {
    const trashed = await findCard(s, template, ctx, data, true);
    if (trashed.cards.length > 0) {
      return completed(200, { dataCardId: trashed.cards[0].dataCardId, note: `the ${what} was already in the trash` });
    }
    return exception(404, `no ${what}`);
  }
  const moved = await s.cards.trash(template.code, cards[0].dataCardId);
  const note = moved ? 'moved to the trash' : `the ${what} was already in the trash`;
  return completed(200, { dataCardId: cards[0].dataCardId, note });
};

export const m42Actions: Readonly<Record<string, ActionHandler>> = {
  createDataCard: activity(createDataCard),
  updateDataCard: activity(updateDataCard),
  deleteDataCard: activity(deleteDataCard),
};
