/**
 * Time for whole-loop scenarios (integration tests and `npm run demo`): one virtual clock shared by
 * the product (its injected Clock), the deployment's queues in memory (FakeQueues: the wait queue's
 * delays, the lane) and the target-state model in the lifecycle shim (initial -> healthy, draining ->
 * gone). Moving it runs, second by second, every re-check and retry that comes due, through the real
 * handler, so minutes of waiting take milliseconds and no test sleeps.
 */

import { FakeQueues, ManualClock } from './fake-queues';
import { CLOCK_PATH, TARGET_MODEL_PATH } from './target-model';

/** Options of {@link VirtualTime.start}. */
export interface VirtualTimeOptions {
  /** Seconds a new target stays `initial` (default: the group's interval x healthy threshold). */
  readonly healthyAfterSeconds?: number;
}

/** The shared clock, the queues and the shim's model, moved together. */
export class VirtualTime {
  public readonly clock = new ManualClock();
  public readonly queues = new FakeQueues(this.clock);
  private readonly startedAt = this.clock.now();

  /** @param shimEndpoint the lifecycle shim in front of moto (its control endpoints). */
  public constructor(private readonly shimEndpoint: string) {}

  /** Switches the shim's target model on, on this clock. */
  public async start(options: VirtualTimeOptions = {}): Promise<void> {
    await this.post(TARGET_MODEL_PATH, {
      enabled: true,
      nowMs: this.clock.now(),
      ...(options.healthyAfterSeconds !== undefined && { healthyAfterSeconds: options.healthyAfterSeconds }),
    });
  }

  /** Seconds since start, for timelines. */
  public elapsedSeconds(): number {
    return Math.round((this.clock.now() - this.startedAt) / 1000);
  }

  /**
   * Moves time forward `seconds`, `step` seconds at a time; after each step every due message goes to
   * `handler` (the product's reconcile handler). `onStep` sees each moment (for a timeline).
   */
  public async advance(
    seconds: number,
    handler: (event: unknown) => Promise<unknown>,
    step = 1,
  ): Promise<void> {
    for (let moved = 0; moved < seconds; moved += step) {
      this.clock.advance(step);
      await this.post(CLOCK_PATH, { nowMs: this.clock.now() });
      await this.queues.deliverDue(handler);
    }
  }

  private async post(path: string, body: unknown): Promise<void> {
    const response = await fetch(`${this.shimEndpoint}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`shim ${path} answered HTTP ${response.status}: ${text}`);
  }
}
