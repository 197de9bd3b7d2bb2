/**
 * Files of external-reference attributes (shared/reference/m42-rest-api.md "Files"): upload with
 * `POST /dc/{t}/data/{id}/{attr}/file` as multipart/form-data with the required fields `fileUpload` (binary)
 * and `fileName`, 413 "Uploaded file is too big" over the limit; download with
 * `GET /dc/{t}/data/{id}/{attr}/file/{location}` as application/octet-stream.
 *
 * Choices where the reference is silent:
 * - An upload answers ApiResponse `{code: 200, message, timestamp}` and adds `{name: fileName, location}` to a
 *   multi-value attribute, or replaces the value of a single-value one. Locations are `file-<n>`.
 * - Uploading to an attribute that is not an external reference is a 400; a location the attribute does not
 *   hold is a 404. The ".msg extension required" note of the mail case is not simulated.
 */
import { type CallContext, cardOf, HttpError, type Reply, template, writable } from './cards-api.js';

export const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;

async function formData(raw: Buffer, contentType: string): Promise<FormData> {
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
    throw new HttpError(400, 'A file is uploaded as multipart/form-data with the fields fileUpload and fileName');
  }
  try {
    return await new Request('http://simulator/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: raw,
    }).formData();
  } catch {
    throw new HttpError(400, 'The multipart body could not be read');
  }
}

export async function uploadFile(
  ctx: CallContext,
  raw: Buffer,
  contentType: string,
  where: { template: string; id: string; attr: string },
): Promise<Reply> {
  const t = template(ctx.store, where.template);
  writable(ctx, t);
  const card = cardOf(ctx.store, t, where.id);
  const def = t.attributes.get(where.attr);
  if (!def) throw new HttpError(404, `Couldn't find attribute with code: ${where.attr} from template: ${t.name}`);
  if (def.type !== 'external-reference') throw new HttpError(400, `Attribute: ${def.name} does not take files`);
  if (ctx.hidden(t.code).has(where.attr)) throw new HttpError(403, 'User is forbidden to update the resource');
  if (card.deleted) throw new HttpError(409, `Data card ${card.id} is in the trash`);
  const form = await formData(raw, contentType);
  const file = form.get('fileUpload');
  const fileName = form.get('fileName');
  if (!(file instanceof Blob)) throw new HttpError(400, "Required part 'fileUpload' is not present");
  if (typeof fileName !== 'string' || fileName === '')
    throw new HttpError(400, "Required part 'fileName' is not present");
  if (file.size > ctx.maxFileBytes) throw new HttpError(413, 'Uploaded file is too big');
  const location = ctx.store.addFile(fileName, Buffer.from(await file.arrayBuffer()));
  const outcome = ctx.store.write(ctx.login, ctx.now, t, {
    card,
    data: { [where.attr]: { values: [{ name: fileName, location }] } },
    mode: def.multiValue ? 'add' : 'replace',
  });
  if (!outcome.ok) throw new HttpError(400, outcome.errors.map((e) => e.message).join('; '));
  return {
    status: 200,
    body: {
      code: 200,
      message: `File ${fileName} was added to attribute ${where.attr} of data card ${card.id}`,
      timestamp: new Date(ctx.now()).toISOString(),
    },
  };
}

export function downloadFile(
  ctx: CallContext,
  where: { template: string; id: string; attr: string; location: string },
): Reply {
  const t = template(ctx.store, where.template);
  const card = cardOf(ctx.store, t, where.id);
  const visible = !ctx.hidden(t.code).has(where.attr);
  const held =
    visible && (card.values.get(where.attr) ?? []).some((v) => 'location' in v && v.location === where.location);
  const file = held ? ctx.store.file(where.location) : undefined;
  if (!file) {
    throw new HttpError(404, `Couldn't find file ${where.location} in attribute ${where.attr} of data card ${card.id}`);
  }
  return {
    status: 200,
    raw: file.bytes,
    headers: {
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename="${file.name.replace(/["\\\r\n]/g, '_')}"`,
    },
  };
}
