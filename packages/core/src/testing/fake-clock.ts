import type { Clock } from '../shared/clock';

/** A clock that moves only when the test says so. */
export class FakeClock implements Clock {
  private ms: number;

  constructor(start: Date | string = '2026-01-01T00:00:00Z') {
    this.ms = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  advance(ms: number): void {
    this.ms += ms;
  }

  set(at: Date | string): void {
    this.ms = new Date(at).getTime();
  }
}
