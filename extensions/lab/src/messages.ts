/**
 * Workshop broadcasts (docs/workshops.md, "Broadcast messages"): polling for the user's new messages
 * and remembering the last one shown. Pure: the plugin (broadcasts.ts) passes in the server, the
 * browser's storage and the notifications; tests pass in fakes.
 */
import { Poller } from './poller';

/** One message as the workshops service answers it. */
export interface BroadcastMessage {
  id: number;
  workshop: string;
  title: string;
  text: string;
  sent_at: string;
  sender: string;
}

/** The session server's answer (`available: false`: the site runs no workshops service, or it is down). */
export interface MessagesAnswer {
  messages: BroadcastMessage[];
  available?: boolean;
}

/** How often JupyterLab asks for new messages (the contract's 30 seconds). */
export const POLL_MS = 30_000;

/** JupyterLab truncates a notification's text beyond this; a longer message gets a "Read" action. */
export const NOTIFICATION_LENGTH = 140;

/** The id of the last message shown to this user in this browser (0: none yet). */
export interface LastShown {
  get(): number;
  set(id: number): void;
}

/** The part of the Web Storage API the poller uses. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * The last id shown, kept in `storage` under a key per user: a reload, or a second tab (which reads
 * it again before each poll), does not show a message twice. A browser that refuses storage (private
 * mode, quota) still remembers for the life of the page.
 */
export function storedLastShown(storage: KeyValueStore | null, user: string): LastShown {
  const key = `factoryhub:workshop-messages:last-shown:${user}`;
  let inMemory = 0;
  return {
    get: () => {
      let stored = 0;
      try {
        stored = Number.parseInt(storage?.getItem(key) ?? '', 10);
      } catch {
        // storage refused: the page's own memory is all there is
      }
      return Math.max(inMemory, Number.isSafeInteger(stored) && stored > 0 ? stored : 0);
    },
    set: (id: number) => {
      inMemory = Math.max(inMemory, id);
      try {
        storage?.setItem(key, String(inMemory));
      } catch {
        // as above
      }
    }
  };
}

/** The notification's text: the message first (it is what a truncated notification must keep), then who sent it. */
export function notificationText(message: BroadcastMessage): string {
  return `${message.text} — ${message.sender}, ${message.title}`;
}

/** Whether JupyterLab would cut the notification short (then the full text is offered behind an action). */
export function isTruncated(message: BroadcastMessage): boolean {
  return notificationText(message).length > NOTIFICATION_LENGTH;
}

/** Asks for the messages newer than the last one shown and shows each new one once, oldest first (poller.ts). */
export class MessagePoller extends Poller {
  constructor(
    private readonly fetchMessages: (after: number) => Promise<MessagesAnswer>,
    private readonly lastShown: LastShown,
    private readonly show: (item: BroadcastMessage) => void,
    onError: (error: unknown) => void = () => undefined,
    intervalMs: number = POLL_MS
  ) {
    super(onError, intervalMs);
  }

  protected async fetchAndShow(): Promise<number> {
    const answer = await this.fetchMessages(this.lastShown.get());
    const fresh = [...(answer.messages ?? [])].sort((a, b) => a.id - b.id);
    let shown = 0;
    for (const message of fresh) {
      if (message.id > this.lastShown.get()) {  // read again: another tab may have shown it meanwhile
        this.lastShown.set(message.id);
        this.show(message);
        shown += 1;
      }
    }
    return shown;
  }
}
