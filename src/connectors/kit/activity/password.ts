/**
 * The first-login password of a create-user or reset-password activity, as the task's spec.event.password says:
 * `default` is the `password` key of its Secret, `generated` a new random password per call. A generated
 * password meets the strictest rules of the directories we write to (Entra ID: 8–256 characters and three of
 * lower case, upper case, digits and symbols; AD's default complexity is the same): 20 characters holding all
 * four classes, from a CSPRNG. Its symbols avoid quotes, backslashes and spaces, which some directories and
 * every shell a workflow might hand the value to treat specially.
 */
import { randomInt } from 'node:crypto';
import { SecretNotFoundError } from '../../../secrets/resolver.js';
import { type ActionContext, InvalidInvocationError } from '../../types.js';
import { ActivityFailure } from './run.js';

const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
const SYMBOLS = '-_!@#%+=.?*';
const CLASSES = [LOWER, UPPER, DIGITS, SYMBOLS];
const ALL = CLASSES.join('');
export const GENERATED_LENGTH = 20;

const pick = (chars: string): string => chars[randomInt(chars.length)];

/** A random password with at least one character of each class, the rest from all of them, shuffled. */
export function generatePassword(length = GENERATED_LENGTH): string {
  const chars = CLASSES.map(pick);
  while (chars.length < length) chars.push(pick(ALL));
  // Fisher–Yates, so the guaranteed characters are not always first.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

/** Whether the task's password is generated per call (a create then hands it back once). */
export const passwordIsGenerated = (ctx: ActionContext): boolean => ctx.task.spec.event?.password?.mode === 'generated';

/**
 * The password spec.event.password gives for `activity`; undefined when the task has none and it is not
 * `required` (400 naming the field when it is). A Secret that is missing, or has no `password` key, fails the
 * call (an ActivityFailure: the task's configuration, not the invocation, is wrong).
 */
export async function eventPassword(
  ctx: ActionContext,
  activity: string,
  required: boolean,
): Promise<string | undefined> {
  const p = ctx.task.spec.event?.password;
  if (!p) {
    if (!required) return undefined;
    throw new InvalidInvocationError(
      `${activity} needs spec.event.password on the task (mode: default with a secretRef, or mode: generated)`,
    );
  }
  if (p.mode === 'generated') return generatePassword();
  const name = p.secretRef?.name;
  if (!name) throw new InvalidInvocationError('spec.event.password mode default needs secretRef');
  const secret = await ctx.secrets.get(ctx.namespace, name).catch((e: unknown) => {
    const why = e instanceof SecretNotFoundError ? e.message : `could not be read: ${(e as Error).message}`;
    throw new ActivityFailure(`spec.event.password.secretRef: ${why}`);
  });
  const value = secret.password;
  if (value === undefined) {
    throw new ActivityFailure(`secret "${name}" has no key "password" (spec.event.password.secretRef)`);
  }
  return value;
}
