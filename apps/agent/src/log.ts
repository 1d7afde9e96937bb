/**
 * One plain line per event on stdout, prefixed with the host name, so that the
 * demo's eight agents sharing one terminal can be told apart and grepped.
 */
export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(
  hostname: string,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  now: () => Date = () => new Date(),
): Logger {
  const emit = (level: LogLevel, message: string) =>
    write(`[${hostname}] ${now().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`);
  return {
    info: (message) => emit('info', message),
    warn: (message) => emit('warn', message),
    error: (message) => emit('error', message),
  };
}

/** A logger that keeps lines in memory, for tests. */
export function createMemoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: LogLevel) => (message: string) => {
    lines.push(`${level} ${message}`);
  };
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}
