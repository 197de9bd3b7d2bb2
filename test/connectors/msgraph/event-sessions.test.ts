/**
 * Graph event activities share one session per connector (its MSAL credential and token): a rotated client
 * secret reaches them without a restart once the controller's periodic check sees the Secret change, and the
 * old secret's refusal in between is an Exception in Entra's words, never the secret itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_MAPPINGS, eventTaskYaml, type GraphEventWorld, startGraphEventWorld } from './event-fixture.js';
import { CLIENT_SECRET } from './helpers.js';

const ADA = '7e6d5c4b-3a29-4180-8f7e-0000000000a1';
const ROTATED = 'r0tated~client.secret-2';
let w: GraphEventWorld;

beforeAll(async () => {
  w = await startGraphEventWorld(() =>
    eventTaskYaml('entra-accounts', 'identityAndAccess', '\n    timeout: 10s', ACCOUNT_MAPPINGS),
  );
  w.sim.dir.addUser({ id: ADA, displayName: 'Ada Lovelace', userPrincipalName: 'ada@contoso.example' });
});
afterAll(() => w.close());

const deactivate = () => w.invoke('entra-accounts', 'deactivateUser', { object_id: ADA });

describe('the event session of a Graph connector', () => {
  it('logs in once for many invocations, and takes a rotated client secret after the next check', async () => {
    await w.runtime.controller.connectors.refreshAll(); // the secrets' fingerprints as they are now
    await Promise.all(Array.from({ length: 10 }, () => deactivate()));
    expect(w.sim.logins).toHaveLength(1);

    w.sim.app.clientSecret = ROTATED;
    w.sim.expireTokens();
    const refused = await deactivate();
    expect(refused.body.state).toBe('Exception');
    expect(refused.body.exception).toContain('AADSTS7000215');
    expect(refused.text).not.toContain(CLIENT_SECRET);

    w.secrets.write('entra-app', { clientSecret: ROTATED });
    await w.runtime.controller.connectors.refreshAll();
    expect((await deactivate()).body).toMatchObject({ state: 'Completed', statusCode: 204 });
    expect(w.sim.logins).toHaveLength(2);
    expect(w.logs.text()).not.toContain(ROTATED);
    expect(w.logs.text()).not.toContain(CLIENT_SECRET);
  });
});
