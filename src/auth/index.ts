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
export { MIN_PASSWORD_LENGTH, checkPassword, hashPassword, verifyPassword } from "./passwords.js";
export { SIGN_IN_LINK_MS, SqlSessionStore, type Session, type SessionPolicy } from "./sessions.js";
