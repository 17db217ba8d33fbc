/**
 * Polling the session server for something to show (workshop messages, announcements): at start
 * and every `intervalMs`, one poll at a time; a failed poll is reported to `onError` (a console
 * line, never a popup) and the next poll tries again. Subclasses say what one poll fetches and shows.
 */
export abstract class Poller {
  private timer: ReturnType<typeof setInterval> | null = null;
  private polling: Promise<number> | null = null;

  constructor(
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs: number
  ) {}

  /** One poll now; the number of items shown. A poll still under way is awaited, not doubled. */
  poll(): Promise<number> {
    if (!this.polling) {
      this.polling = this.fetchAndShow().finally(() => {
        this.polling = null;
      });
    }
    return this.polling;
  }

  /** Poll now and every `intervalMs` until `stop()`. */
  start(): void {
    if (this.timer === null) {
      this.timer = setInterval(() => void this.tick(), this.intervalMs);
      void this.tick();
    }
  }

  stop(): void {
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Fetch once and show what is new; the number shown. */
  protected abstract fetchAndShow(): Promise<number>;

  private async tick(): Promise<void> {
    try {
      await this.poll();
    } catch (error) {
      this.onError(error);
    }
  }
}
