/** Request authentication shared by connector types: the Authenticator contract, static headers, token auth. */
export { type Authenticator, type AuthState, NO_AUTH, staticHeader } from './authenticator.js';
export { EXPIRY_MARGIN_MS, type IssuedToken, TokenAuth, type TokenAuthOptions } from './token-auth.js';
