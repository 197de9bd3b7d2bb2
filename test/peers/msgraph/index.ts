/** The Microsoft Graph + Entra token endpoint simulator (server.ts) and its helpers. */
export { createAppCertificate } from './app-certificate.js';
export type { Change, Obj } from './directory.js';
export { type Fault, type GraphApp, GraphSimulator, type LoggedRequest } from './server.js';
