/**
 * User activities. `data` holds the card's attributes by local name; the identity mapping turns them into LDAP
 * attributes and its dn mapping names the entry.
 *   createUser      add (input.attributes: extra attributes of the entry, such as objectClass); OpenLDAP `userPassword`, AD `unicodePwd` (protected connection only) then
 *                   userAccountControl 512 (enabled) and pwdLastSet 0 (change at next logon)      → 201 {dn}
 *   updateUser      modify replace of the mapped attributes present in data (null clears)         → 204
 *   deleteUser      delete                                                                           → 204
 *   activateUser / deactivateUser   AD: bit 2 of userAccountControl; OpenLDAP: ppolicy's
 *                   pwdAccountLockedTime (000001010000Z locks until an administrator unlocks)      → 204
 *   resetPassword   the password of spec.event.password, and pwdLastSet 0 on AD                      → 204
 * A password is never part of an answer, a log line or an error.
 */
import { Attribute, Change } from 'ldapts';
import { eventPassword } from '../../kit/activity/password.js';
import { type ActionHandler, InvalidInvocationError } from '../../types.js';
import type { LdapSession } from '../session.js';
import { dnFrom, extraAttributes, rdnOf, requireMapping, writtenAttributes } from './mapping.js';
import { ActivityFailure, activity } from './run.js';

const LOCKED_FOREVER = '000001010000Z';
const UAC_DISABLED = 0x2;
const UAC_NORMAL = 0x200;

export const replace = (type: string, values: Array<string | Buffer>): Change =>
  new Change({ operation: 'replace', modification: new Attribute({ type, values: values as string[] }) });
const remove = (type: string): Change => new Change({ operation: 'delete', modification: new Attribute({ type }) });

const isAd = (s: LdapSession): boolean => s.settings.flavor === 'activeDirectory';

/** AD's unicodePwd value: the password in double quotes, UTF-16LE. */
const unicodePwd = (password: string): Buffer => Buffer.from(`"${password}"`, 'utf16le');

async function setPassword(s: LdapSession, dn: string, password: string): Promise<void> {
  if (!isAd(s)) return s.client.modify(dn, replace('userPassword', [password]));
  if (!s.protected) {
    throw new ActivityFailure(
      'Active Directory takes a password only over ldaps:// or StartTLS (set spec.ldap.tls)',
      400,
    );
  }
  await s.client.modify(dn, [replace('unicodePwd', [unicodePwd(password)]), replace('pwdLastSet', ['0'])]);
}

export const createUser: ActionHandler = async (ctx, input, data) => {
  const mapping = requireMapping(ctx, 'identity', 'createUser');
  const dn = dnFrom(mapping, 'identity', data, 'createUser');
  const written = writtenAttributes(mapping, data).filter((w) => w.values !== null);
  const extra = extraAttributes(input, 'createUser');
  const password = await eventPassword(ctx, 'createUser', false);
  return activity(ctx, async (s) => {
    const entry: Record<string, Array<string | Buffer>> = { ...extra };
    for (const w of written) entry[w.attribute] = w.values as Array<string | Buffer>;
    const rdn = rdnOf(dn);
    if (rdn && !Object.keys(entry).some((k) => k.toLowerCase() === rdn.attribute.toLowerCase()))
      entry[rdn.attribute] = [rdn.value];
    // cn is required by person (and so by inetOrgPerson and AD's user): the RDN's value when not mapped.
    if (rdn && !Object.keys(entry).some((k) => k.toLowerCase() === 'cn')) entry.cn = [rdn.value];
    entry.objectClass ??= isAd(s) ? ['top', 'person', 'organizationalPerson', 'user'] : ['inetOrgPerson'];
    if (isAd(s)) entry.userAccountControl = [String(UAC_NORMAL | UAC_DISABLED)];
    else if (password) entry.userPassword = [password];
    await s.client.add(dn, entry as Record<string, string[]>);
    if (password) s.addSecret(password);
    if (isAd(s) && password) {
      await setPassword(s, dn, password);
      await s.client.modify(dn, replace('userAccountControl', [String(UAC_NORMAL)]));
    }
    return { statusCode: 201, response: { dn } };
  });
};

export const updateUser: ActionHandler = async (ctx, _input, data) => {
  const mapping = requireMapping(ctx, 'identity', 'updateUser');
  const dn = dnFrom(mapping, 'identity', data, 'updateUser');
  const changes = writtenAttributes(mapping, data).map((w) =>
    w.values ? replace(w.attribute, w.values) : remove(w.attribute),
  );
  if (changes.length === 0) throw new InvalidInvocationError('updateUser found no mapped attribute to change in data');
  return activity(ctx, async (s) => {
    await s.client.modify(dn, changes).catch((e: { code?: number }) => {
      // Clearing an attribute the entry does not have is already done.
      if (e?.code === 16 && changes.every((c) => c.operation === 'delete')) return;
      throw e;
    });
    return { statusCode: 204, response: null };
  });
};

export const deleteUser: ActionHandler = async (ctx, _input, data) => {
  const dn = dnFrom(requireMapping(ctx, 'identity', 'deleteUser'), 'identity', data, 'deleteUser');
  return activity(ctx, async (s) => {
    await s.client.del(dn);
    return { statusCode: 204, response: null };
  });
};

const setEnabled =
  (enabled: boolean, name: string): ActionHandler =>
  async (ctx, _input, data) => {
    const dn = dnFrom(requireMapping(ctx, 'identity', name), 'identity', data, name);
    return activity(ctx, async (s) => {
      if (isAd(s)) {
        const { searchEntries } = await s.client.search(dn, { scope: 'base', attributes: ['userAccountControl'] });
        const uac = Number(searchEntries[0]?.userAccountControl ?? UAC_NORMAL);
        const next = enabled ? uac & ~UAC_DISABLED : uac | UAC_DISABLED;
        await s.client.modify(dn, replace('userAccountControl', [String(next)]));
      } else if (enabled) {
        await s.client.modify(dn, remove('pwdAccountLockedTime')).catch((e: { code?: number }) => {
          if (e?.code !== 16) throw e; // not locked: already active
        });
      } else {
        await s.client.modify(dn, replace('pwdAccountLockedTime', [LOCKED_FOREVER]));
      }
      return { statusCode: 204, response: null };
    });
  };

export const activateUser = setEnabled(true, 'activateUser');
export const deactivateUser = setEnabled(false, 'deactivateUser');

export const resetPassword: ActionHandler = async (ctx, _input, data) => {
  const dn = dnFrom(requireMapping(ctx, 'identity', 'resetPassword'), 'identity', data, 'resetPassword');
  const password = (await eventPassword(ctx, 'resetPassword', true)) as string;
  return activity(ctx, async (s) => {
    s.addSecret(password);
    await setPassword(s, dn, password);
    return { statusCode: 204, response: null };
  });
};
