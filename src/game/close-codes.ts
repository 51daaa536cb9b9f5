/**
 * WebSocket close codes the client treats differently. A module of its own, with no imports, so the
 * browser script can use them without bundling the protocol's validation (zod compiles its checks
 * with `new Function`, which the site's CSP forbids).
 */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY = 1008;
export const CLOSE_TRY_AGAIN = 1013;
/** The session this socket acted for has ended (logout, password change, deactivation…). */
export const CLOSE_SIGNED_OUT = 4001;
