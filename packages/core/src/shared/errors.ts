/**
 * Every core module throws a subclass of CoreError with its own literal code
 * union. apps/api maps each code to one transport status in a single map, and
 * shows only `message` (written for the user, never internals).
 */
export abstract class CoreError<Code extends string = string> extends Error {
  abstract readonly module: string;
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
