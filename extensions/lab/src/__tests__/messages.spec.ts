import {
  BroadcastMessage,
  KeyValueStore,
  MessagePoller,
  MessagesAnswer,
  POLL_MS,
  isTruncated,
  notificationText,
  storedLastShown
} from '../messages';

function message(id: number, text = `message ${id}`): BroadcastMessage {
  return { id, workshop: 'gpu-intro', title: 'Introduction to GPU computing', text, sent_at: '2026-12-04T13:50:00+00:00',
    sender: 'trainer1' };
}

/** The workshops service behind the session's server: every message newer than `after`, oldest first. */
class FakeServer {
  messages: BroadcastMessage[] = [];
  asked: number[] = [];
  failing = false;

  fetch = async (after: number): Promise<MessagesAnswer> => {
    this.asked.push(after);
    if (this.failing) {
      throw new Error('the session server did not answer');
    }
    return { messages: this.messages.filter(m => m.id > after) };
  };
}

class MemoryStorage implements KeyValueStore {
  items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

describe('MessagePoller', () => {
  let server: FakeServer;
  let storage: MemoryStorage;
  let shown: number[];
  const poller = (user = 'alice', onError?: (e: unknown) => void) =>
    new MessagePoller(server.fetch, storedLastShown(storage, user), m => shown.push(m.id), onError);

  beforeEach(() => {
    server = new FakeServer();
    storage = new MemoryStorage();
    shown = [];
  });

  afterEach(() => jest.useRealTimers());

  it('shows each new message once, oldest first, asking only for what is newer', async () => {
    server.messages = [message(7), message(3)];  // even if an answer came out of order
    const alice = poller();
    expect(await alice.poll()).toBe(2);
    expect(shown).toEqual([3, 7]);
    expect(await alice.poll()).toBe(0);
    server.messages.push(message(9));
    await alice.poll();
    expect(shown).toEqual([3, 7, 9]);
    expect(server.asked).toEqual([0, 7, 7]);
  });

  it('remembers the last message shown across a reload, per user', async () => {
    server.messages = [message(1), message(2)];
    await poller().poll();
    server.messages.push(message(3));
    await poller().poll();  // the page reloaded: a new poller, the same browser storage
    expect(shown).toEqual([1, 2, 3]);
    await poller('bob').poll();  // another user in the same browser (a training room's PC) has their own
    expect(shown).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('does not show again what another tab showed meanwhile', async () => {
    server.messages = [message(1)];
    const first = poller();
    const second = poller();
    await first.poll();
    await second.poll();
    expect(shown).toEqual([1]);
  });

  it('polls at start and every 30 seconds, and stops', async () => {
    jest.useFakeTimers();
    const alice = poller();
    alice.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(server.asked).toEqual([0]);
    server.messages = [message(4)];
    await jest.advanceTimersByTimeAsync(POLL_MS - 1);
    expect(shown).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(shown).toEqual([4]);
    alice.stop();
    await jest.advanceTimersByTimeAsync(5 * POLL_MS);
    expect(server.asked).toEqual([0, 0]);
  });

  it('reports a failed poll quietly and tries again at the next one', async () => {
    jest.useFakeTimers();
    const errors: unknown[] = [];
    const alice = poller('alice', e => errors.push(e));
    server.failing = true;
    server.messages = [message(5)];
    alice.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(errors).toHaveLength(1);
    expect(shown).toEqual([]);
    server.failing = false;
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(shown).toEqual([5]);
    alice.stop();
  });

  it('a site without workshops (no messages, unavailable) shows nothing', async () => {
    const alice = new MessagePoller(async () => ({ messages: [], available: false }), storedLastShown(storage, 'a'),
      m => shown.push(m.id));
    expect(await alice.poll()).toBe(0);
    expect(storage.items.size).toBe(0);
  });

  it('does not poll twice at once', async () => {
    let release: (answer: MessagesAnswer) => void = () => undefined;
    let calls = 0;
    const slow = new MessagePoller(() => {
      calls += 1;
      return new Promise<MessagesAnswer>(resolve => (release = resolve));
    }, storedLastShown(storage, 'alice'), m => shown.push(m.id));
    const one = slow.poll();
    const two = slow.poll();
    release({ messages: [message(1)] });
    expect(await one).toBe(1);
    expect(await two).toBe(1);
    expect(calls).toBe(1);
    expect(shown).toEqual([1]);
  });
});

describe('storedLastShown', () => {
  it('ignores what it cannot read and survives a browser that refuses storage', () => {
    const storage = new MemoryStorage();
    storage.setItem('factoryhub:workshop-messages:last-shown:alice', 'garbage');
    expect(storedLastShown(storage, 'alice').get()).toBe(0);
    const refusing: KeyValueStore = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      }
    };
    const last = storedLastShown(refusing, 'alice');
    last.set(12);
    expect(last.get()).toBe(12);
    expect(storedLastShown(null, 'alice').get()).toBe(0);
  });
});

describe('notificationText', () => {
  it('puts the message before who sent it, and says when JupyterLab would cut it short', () => {
    expect(notificationText(message(1, 'We restart at 14:00'))).toBe(
      'We restart at 14:00 — trainer1, Introduction to GPU computing');
    expect(isTruncated(message(1, 'We restart at 14:00'))).toBe(false);
    expect(isTruncated(message(1, 'x'.repeat(200)))).toBe(true);
  });
});
