/**
 * JSON bodies of scheduled reads (REST, SCIM, Graph): an empty body is "no content" (null); anything unparsable fails the run with the parser's reason.
 */

import { excerpt } from '../../transport/scrub.js';
import { ExtractError } from '../types.js';

export function parseJsonBody(text: string, where: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ExtractError(`response from ${where} is not valid JSON: ${excerpt((e as Error).message)}`);
  }
}
