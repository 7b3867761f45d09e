// The emulator's notion of "now". Expiry (admin keys, LiteLLM durations,
// OpenRouter expires_at) is computed from it, so a test can jump past an
// expiry with advance() instead of sleeping. Rate limiting and latency use the
// real clock: they exist to shape real traffic.

export class Clock {
  #offsetMs = 0;

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError(`clock advance must be a finite number of milliseconds, got ${ms}`);
    this.#offsetMs += ms;
  }

  get offsetMs(): number {
    return this.#offsetMs;
  }

  reset(): void {
    this.#offsetMs = 0;
  }
}
