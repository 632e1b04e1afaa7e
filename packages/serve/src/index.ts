export { startServer, isLoopback, type RunningServer, type ServeOptions } from './server.js';
export type { Coordination, QuietIo, ServedLog } from './coordination.js';
export { createRoutes, openApiDocument } from './routes.js';
export { findRoute, matchPath, type Route } from './router.js';
export { errorBody, statusOf, type ErrorBody } from './errors.js';
export {
  createToken,
  findToken,
  hashToken,
  isRole,
  readTokens,
  revokeToken,
  roleAllows,
  ROLES,
  type Role,
  type StoredToken,
} from './tokens.js';
