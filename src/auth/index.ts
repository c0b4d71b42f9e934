/** Users, roles and API tokens (stored hashed). */
export {
  DEFAULT_TOKEN_DAYS,
  ROLES,
  SqlUserStore,
  hashToken,
  hasRole,
  parseRole,
  requireRole,
  type IssuedToken,
  type Role,
  type User,
} from "./users.js";
