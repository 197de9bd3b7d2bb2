/** Event activities of the REST connector (digest §4.9), registered as `actions` on restConnector. */
export { restCall } from './rest-call.js';
export {
  closeActionSessions as closeRestActionSessions,
  evictActionSession as evictRestActionSession,
} from './sessions.js';
