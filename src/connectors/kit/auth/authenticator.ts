/**
 * How a connector type authenticates its requests, whatever the scheme: static headers (basic, bearer, an API key
 * header) or a token that a login hands out (token-auth.ts). The caller asks `authorize()` for the headers of one
 * request; after a 401 it hands them back to `refresh()`, which says whether one more attempt with fresh
 * credentials makes sense, so that a refresh happens once per refused request and never loops.
 */

/** Credentials as sent with one request; handed back on a 401 so that a refresh happens only once. */
export interface AuthState {
  headers: Record<string, string>;
  /** The token the headers carry, if any. */
  token?: string;
}

export interface Authenticator {
  authorize(): Promise<AuthState>;
  /** After a 401 to a request sent with `sent`: true when fresh credentials are now available for one retry. */
  refresh(sent: AuthState): Promise<boolean>;
}

/** No credentials at all. */
export const NO_AUTH: Authenticator = { authorize: async () => ({ headers: {} }), refresh: async () => false };

/** One fixed header (Basic, Bearer, an API key); a 401 cannot be helped by asking again. */
export function staticHeader(name: string, value: string): Authenticator {
  const state: AuthState = { headers: { [name]: value } };
  return { authorize: async () => state, refresh: async () => false };
}
