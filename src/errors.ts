// The error catalog: one stable code per refusal, with the HTTP status, the
// SOCKS5 reply (RFC 1928 §6) and the short reason the customer-facing
// endpoints (/api/proxies.php, dashboard) show. Gateway, API, CLI and logs all
// speak these codes; low-level errors are translated once, at the boundary.

export const SOCKS = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;

export interface ErrorDef {
  status: number;
  socks: number;
  reason: string;
  message: string;
}

function def(status: number, socks: number, reason: string, message: string): ErrorDef {
  return { status, socks, reason, message };
}

export const ERRORS = {
  // Gateway: authentication and admission
  PC_ERR_AUTH_REQUIRED: def(407, SOCKS.NOT_ALLOWED, 'auth_required', 'Proxy authentication required'),
  PC_ERR_BAD_CREDENTIALS: def(407, SOCKS.NOT_ALLOWED, 'bad_credentials', 'Wrong username or password'),
  PC_ERR_IP_NOT_ALLOWED: def(403, SOCKS.NOT_ALLOWED, 'ip_not_whitelisted', 'Client IP is not whitelisted'),
  PC_ERR_EXPIRED: def(403, SOCKS.NOT_ALLOWED, 'expired', 'Subscription expired'),
  PC_ERR_BANNED: def(403, SOCKS.NOT_ALLOWED, 'banned', 'Account banned'),
  PC_ERR_DISABLED: def(403, SOCKS.NOT_ALLOWED, 'disabled', 'Account disabled'),
  PC_ERR_LOCKED_OUT: def(403, SOCKS.NOT_ALLOWED, 'timeout', 'Locked out for exceeding the thread limit'),
  PC_ERR_AUTH_LOCKED: def(
    429,
    SOCKS.NOT_ALLOWED,
    'auth_locked',
    'Too many failed sign-in attempts from this address or for this username; try again later',
  ),
  PC_ERR_QUOTA_EXCEEDED: def(403, SOCKS.NOT_ALLOWED, 'quota_exceeded', 'Data quota exhausted'),
  PC_ERR_TARGET_FORBIDDEN: def(403, SOCKS.NOT_ALLOWED, 'target_forbidden', 'Target address is not allowed'),
  PC_ERR_THREADS_EXCEEDED: def(429, SOCKS.NOT_ALLOWED, 'threads_exceeded', 'Too many concurrent connections'),
  PC_ERR_RATE_LIMITED: def(429, SOCKS.NOT_ALLOWED, 'rate_limited', 'Too many requests per second'),
  PC_ERR_IP_LIMITED: def(429, SOCKS.NOT_ALLOWED, 'ip_limited', 'Too many connections from this IP'),
  // Gateway: protocol
  PC_ERR_BAD_REQUEST: def(400, SOCKS.GENERAL_FAILURE, 'bad_request', 'Malformed proxy request'),
  PC_ERR_HEADERS_TOO_LARGE: def(431, SOCKS.GENERAL_FAILURE, 'headers_too_large', 'Request headers too large'),
  PC_ERR_REQUEST_TIMEOUT: def(408, SOCKS.TTL_EXPIRED, 'request_timeout', 'Request not received in time'),
  PC_ERR_COMMAND_NOT_SUPPORTED: def(
    501,
    SOCKS.COMMAND_NOT_SUPPORTED,
    'command_not_supported',
    'Command not supported',
  ),
  PC_ERR_ADDRESS_TYPE: def(
    400,
    SOCKS.ADDRESS_TYPE_NOT_SUPPORTED,
    'address_type_not_supported',
    'Address type not supported',
  ),
  // Gateway: upstream and target
  PC_ERR_NO_UPSTREAM: def(502, SOCKS.GENERAL_FAILURE, 'no_upstream', 'No upstream is bound to this port'),
  PC_ERR_UPSTREAM_DOWN: def(502, SOCKS.GENERAL_FAILURE, 'upstream_down', 'Upstream proxy is down'),
  PC_ERR_UPSTREAM_AUTH: def(
    502,
    SOCKS.GENERAL_FAILURE,
    'upstream_auth_failed',
    'Upstream proxy refused our credentials',
  ),
  PC_ERR_UPSTREAM_PROTOCOL: def(
    502,
    SOCKS.GENERAL_FAILURE,
    'upstream_protocol',
    'Upstream proxy answered unexpectedly',
  ),
  PC_ERR_UPSTREAM_TIMEOUT: def(504, SOCKS.TTL_EXPIRED, 'upstream_timeout', 'Upstream did not answer in time'),
  PC_ERR_TARGET_UNRESOLVED: def(502, SOCKS.HOST_UNREACHABLE, 'target_unresolved', 'Target host not found'),
  PC_ERR_TARGET_REFUSED: def(
    502,
    SOCKS.CONNECTION_REFUSED,
    'target_refused',
    'Target refused the connection',
  ),
  PC_ERR_TARGET_UNREACHABLE: def(
    502,
    SOCKS.HOST_UNREACHABLE,
    'target_unreachable',
    'Target host is unreachable',
  ),
  PC_ERR_TARGET_TIMEOUT: def(504, SOCKS.TTL_EXPIRED, 'target_timeout', 'Target did not answer in time'),
  // API
  PC_ERR_VALIDATION: def(400, SOCKS.GENERAL_FAILURE, 'validation', 'Request is invalid'),
  PC_ERR_UNAUTHORIZED: def(401, SOCKS.NOT_ALLOWED, 'unauthorized', 'Missing, wrong or expired credentials'),
  PC_ERR_FORBIDDEN: def(403, SOCKS.NOT_ALLOWED, 'forbidden', 'Token lacks the required scope'),
  PC_ERR_NOT_FOUND: def(404, SOCKS.GENERAL_FAILURE, 'not_found', 'Not found'),
  PC_ERR_CONFLICT: def(409, SOCKS.GENERAL_FAILURE, 'conflict', 'Already exists'),
  PC_ERR_PORT_RANGE_FULL: def(
    409,
    SOCKS.GENERAL_FAILURE,
    'port_range_full',
    'No free port left in the range',
  ),
  PC_ERR_IMPORT_INVALID: def(
    400,
    SOCKS.GENERAL_FAILURE,
    'import_invalid',
    'Upstream list has malformed lines',
  ),
  PC_ERR_PAYLOAD_TOO_LARGE: def(413, SOCKS.GENERAL_FAILURE, 'payload_too_large', 'Request body too large'),
  PC_ERR_TOO_MANY_REQUESTS: def(429, SOCKS.GENERAL_FAILURE, 'too_many_requests', 'Too many requests'),
  PC_ERR_STORE_UNAVAILABLE: def(503, SOCKS.GENERAL_FAILURE, 'store_unavailable', 'Database is unavailable'),
  // Start-up
  PC_ERR_DATA_DIR: def(500, SOCKS.GENERAL_FAILURE, 'data_dir_unusable', 'Data directory is not usable'),
  PC_ERR_INTERNAL: def(500, SOCKS.GENERAL_FAILURE, 'internal', 'Internal error'),
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;

/** An error that carries a catalog code; `details` are safe to show to the caller. */
export class PcError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERRORS[code].message);
    this.name = 'PcError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = details;
  }

  get reason(): string {
    return ERRORS[this.code].reason;
  }
}

export function isPcError(e: unknown): e is PcError {
  return e instanceof PcError;
}

/**
 * Node's socket errno codes mapped once to catalog codes (dialling a target or
 * an upstream). `upstream` says whose failure it was, which changes the code.
 */
export function fromErrno(err: NodeJS.ErrnoException, upstream: boolean): ErrorCode {
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NODATA':
      return upstream ? 'PC_ERR_UPSTREAM_DOWN' : 'PC_ERR_TARGET_UNRESOLVED';
    case 'ECONNREFUSED':
      return upstream ? 'PC_ERR_UPSTREAM_DOWN' : 'PC_ERR_TARGET_REFUSED';
    case 'ETIMEDOUT':
      return upstream ? 'PC_ERR_UPSTREAM_TIMEOUT' : 'PC_ERR_TARGET_TIMEOUT';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ECONNRESET':
    case 'EPIPE':
      return upstream ? 'PC_ERR_UPSTREAM_DOWN' : 'PC_ERR_TARGET_UNREACHABLE';
    default:
      return upstream ? 'PC_ERR_UPSTREAM_DOWN' : 'PC_ERR_TARGET_UNREACHABLE';
  }
}
