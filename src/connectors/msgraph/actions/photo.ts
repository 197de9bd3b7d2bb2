/**
 * A user's photo from `data`: the mapped photo attribute (mapping.ts PHOTO_PATHS) holds base64 bytes, or a
 * `data:image/png;base64,...` URL, as a file-upload attribute of a card is sent. Graph takes it as raw bytes on
 * PUT /users/{id}/photo/$value, at most 4 MB; the size is checked here, before any request, so an oversized
 * photo is a 400 that names the attribute rather than a half-done update. `null` removes the photo.
 */
import type { TaskMapping } from '../../../model/resources.js';
import { statusText } from '../../../transport/http-client.js';
import { InvalidInvocationError, type InvokeData } from '../../types.js';
import { PHOTO_PATHS } from './mapping.js';
import { ActivityFailure, type GraphActivityRun, record, text } from './run.js';

export const MAX_PHOTO_BYTES = 4 * 1024 * 1024;
const DATA_URL = /^data:(image\/[\w.+-]+);base64,(.*)$/s;
const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

export interface Photo {
  local: string;
  /** The bytes, or null to remove the photo. */
  bytes: Uint8Array | null;
  type: string;
}

const megabytes = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MB`;

/** The photo `data` carries for a mapped photo attribute; undefined when it carries none. */
export function photoOf(mapping: TaskMapping, data: InvokeData): Photo | undefined {
  const attribute = (mapping.attributes ?? []).find((a) => PHOTO_PATHS.has(a.external) && a.local in data);
  if (!attribute) return undefined;
  const { local } = attribute;
  const value = data[local];
  if (value === null) return { local, bytes: null, type: 'image/jpeg' };
  const url = typeof value === 'string' ? DATA_URL.exec(value) : null;
  const base64 = url ? url[2] : value;
  if (typeof base64 !== 'string' || base64.trim() === '' || !BASE64.test(base64)) {
    throw new InvalidInvocationError(
      `data.${local} must be the photo as base64 or as a data:image/jpeg;base64,... URL (it maps the Graph ${attribute.external})`,
    );
  }
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length > MAX_PHOTO_BYTES) {
    throw new InvalidInvocationError(
      `data.${local} is a photo of ${megabytes(bytes.length)} (${bytes.length} bytes): Graph takes at most 4 MB (${MAX_PHOTO_BYTES} bytes)`,
    );
  }
  return { local, bytes, type: url ? url[1] : 'image/jpeg' };
}

/** Sends (or removes) the photo of the user at `userPath` (`/users/{id}`). */
export async function writePhoto(run: GraphActivityRun, userPath: string, photo: Photo): Promise<void> {
  const path = `${userPath}/photo/$value`;
  if (photo.bytes !== null) {
    await run.request('PUT', path, photo.bytes, { headers: { 'Content-Type': photo.type } });
    return;
  }
  // Removing a photo the user does not have is already done; a user that does not exist is still a failure.
  const { status, body } = await run.request('DELETE', path, undefined, { accept: [404] });
  const error = record(record(body).error);
  if (status === 404 && error.code !== 'ImageNotFound') {
    const said = [text(error.code), text(error.message)].filter(Boolean).join(': ');
    throw new ActivityFailure(`${run.what} answered ${statusText(404)}${said ? `: ${said}` : ''}`, 404, body);
  }
}
