import { ChorusError } from './chorus-error.js';

function define<const N extends string>(name: N) {
  const marker = `chorus.error.${name}`;
  return { name, marker, symbol: Symbol.for(marker) };
}

const unsupported = define('Chorus_UnsupportedCapabilityError');

/** A plugin was asked for something its capabilities declare it cannot do. */
export class UnsupportedCapabilityError extends ChorusError {
  readonly [unsupported.symbol] = true;
  readonly capability: string;
  readonly signerId: string;

  constructor(options: { capability: string; signerId: string; reason?: string }) {
    super(unsupported.name, {
      message: `${options.signerId} cannot ${options.capability}${options.reason ? `: ${options.reason}` : ''}`,
    });
    this.capability = options.capability;
    this.signerId = options.signerId;
  }

  static override isInstance(error: unknown): error is UnsupportedCapabilityError {
    return ChorusError.hasMarker(error, unsupported.marker);
  }
}

const configuration = define('Chorus_SignerConfigurationError');

/**
 * The server behind a plugin is configured so that multi-signer would fail, often silently
 * (BIND inline-signing, PowerDNS direct-dnskey=no, Knot dnskey-management full…). The message
 * names the setting and the fix. Not retryable: an operator has to change the server.
 */
export class SignerConfigurationError extends ChorusError {
  readonly [configuration.symbol] = true;
  readonly signerId: string;
  readonly setting: string;
  readonly fix: string;

  constructor(options: {
    signerId: string;
    zone?: string;
    setting: string;
    problem: string;
    fix: string;
  }) {
    super(configuration.name, {
      message: `${options.signerId}${options.zone ? ` (zone ${options.zone})` : ''}: ${options.problem}. Change \`${options.setting}\`: ${options.fix}`,
    });
    this.signerId = options.signerId;
    this.setting = options.setting;
    this.fix = options.fix;
  }

  static override isInstance(error: unknown): error is SignerConfigurationError {
    return ChorusError.hasMarker(error, configuration.marker);
  }
}

const command = define('Chorus_SignerCommandError');

/**
 * A server tool (rndc, knotc, keymgr, pdnsutil) failed, or printed an error while exiting 0.
 * `command` is the argv with secrets removed. Retryable when it timed out.
 */
export class SignerCommandError extends ChorusError {
  readonly [command.symbol] = true;
  readonly command: string[];
  readonly exitCode: number | undefined;
  readonly stderr: string;
  readonly timedOut: boolean;

  constructor(options: {
    command: string[];
    exitCode?: number;
    stderr: string;
    timedOut?: boolean;
    cause?: unknown;
    retryable?: boolean;
  }) {
    const stderr = options.stderr.trim().slice(0, 2000);
    super(command.name, {
      message: `${options.command.join(' ')} failed${options.timedOut ? ' (timed out)' : options.exitCode !== undefined ? ` (exit ${options.exitCode})` : ''}${stderr ? `: ${stderr}` : ''}`,
      isRetryable: options.retryable ?? options.timedOut ?? false,
      cause: options.cause,
    });
    this.command = options.command;
    this.exitCode = options.exitCode;
    this.stderr = stderr;
    this.timedOut = options.timedOut ?? false;
  }

  static override isInstance(error: unknown): error is SignerCommandError {
    return ChorusError.hasMarker(error, command.marker);
  }
}

const api = define('Chorus_ApiCallError');

/** An HTTP API call failed. 408, 409, 429 and 5xx are retryable; `retryAfterSeconds` comes from the server when it sent one. */
export class ApiCallError extends ChorusError {
  readonly [api.symbol] = true;
  readonly url: string;
  readonly statusCode: number | undefined;
  readonly responseBody: string;
  readonly retryAfterSeconds: number | undefined;

  constructor(options: {
    url: string;
    method: string;
    statusCode?: number;
    responseBody?: string;
    retryAfterSeconds?: number;
    cause?: unknown;
  }) {
    const status = options.statusCode;
    const body = (options.responseBody ?? '').trim().slice(0, 2000);
    super(api.name, {
      message: `${options.method} ${options.url} ${status === undefined ? 'could not be sent' : `answered HTTP ${status}`}${body ? `: ${body}` : ''}`,
      isRetryable:
        status === undefined || status === 408 || status === 409 || status === 429 || status >= 500,
      cause: options.cause,
    });
    this.url = options.url;
    this.statusCode = status;
    this.responseBody = body;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  static override isInstance(error: unknown): error is ApiCallError {
    return ChorusError.hasMarker(error, api.marker);
  }
}

const convergence = define('Chorus_ConvergenceError');

/** After an apply, the wire still differs from the desired state. Retryable: servers may lag. */
export class ConvergenceError extends ChorusError {
  readonly [convergence.symbol] = true;
  readonly zone: string;
  readonly signerId: string;
  readonly remaining: number;

  constructor(options: { zone: string; signerId: string; remaining: number; detail: string }) {
    super(convergence.name, {
      message: `${options.signerId} did not converge for ${options.zone}: ${options.remaining} difference(s) remain (${options.detail})`,
      isRetryable: true,
    });
    this.zone = options.zone;
    this.signerId = options.signerId;
    this.remaining = options.remaining;
  }

  static override isInstance(error: unknown): error is ConvergenceError {
    return ChorusError.hasMarker(error, convergence.marker);
  }
}

const unsafe = define('Chorus_UnsafePlanError');

/** A plan would break resolution or validation (an empty NS set, every DNSKEY removed…). */
export class UnsafePlanError extends ChorusError {
  readonly [unsafe.symbol] = true;
  readonly reason: string;

  constructor(reason: string) {
    super(unsafe.name, { message: `unsafe plan refused: ${reason}` });
    this.reason = reason;
  }

  static override isInstance(error: unknown): error is UnsafePlanError {
    return ChorusError.hasMarker(error, unsafe.marker);
  }
}

const config = define('Chorus_ConfigError');

/** A configuration value is missing or invalid. Thrown at start-up, never at first use. */
export class ConfigError extends ChorusError {
  readonly [config.symbol] = true;
  readonly key: string;

  constructor(options: { key: string; problem: string; source?: string }) {
    super(config.name, {
      message: `${options.source ? `${options.source}: ` : ''}${options.key}: ${options.problem}`,
    });
    this.key = options.key;
  }

  static override isInstance(error: unknown): error is ConfigError {
    return ChorusError.hasMarker(error, config.marker);
  }
}
