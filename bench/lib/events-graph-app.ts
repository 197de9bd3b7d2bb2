/** The app registration and users every process of the event benchmark's Graph phase agrees on. */
export const GRAPH_APP = {
  tenantId: '7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f',
  clientId: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  clientSecret: 'bench~graph.secret-value',
};

/** The id of bench user i: a GUID as Entra gives them. */
export const graphUserId = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** Bearer token of the app from the simulator's token endpoint (client credentials), for the direct phase. */
export async function graphToken(origin: string, fetchJson: (url: string, form: string) => Promise<unknown>) {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: GRAPH_APP.clientId,
    client_secret: GRAPH_APP.clientSecret,
    scope: `${origin}/.default`,
  }).toString();
  const answer = (await fetchJson(`${origin}/${GRAPH_APP.tenantId}/oauth2/v2.0/token`, form)) as {
    access_token?: string;
  };
  if (!answer.access_token) throw new Error(`no token from the Graph simulator: ${JSON.stringify(answer)}`);
  return answer.access_token;
}
