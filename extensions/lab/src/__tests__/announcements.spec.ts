import {
  ANNOUNCEMENTS_POLL_MS,
  Announcement,
  AnnouncementPoller,
  AnnouncementsAnswer,
  REMEMBERED,
  announcementText,
  isLong,
  storedShownIds
} from '../announcements';
import { KeyValueStore } from '../messages';

function announcement(id: number, level: 'info' | 'warning' = 'info', text = `announcement ${id}`): Announcement {
  return { id, level, title: 'Maintenance', text, starts_at: '2026-12-04T12:00:00+00:00',
    ends_at: '2026-12-05T12:00:00+00:00' };
}

/** The announcements service behind the session's server: what is current for the user now. */
class FakeServer {
  current: Announcement[] = [];
  asked = 0;
  failing = false;

  fetch = async (): Promise<AnnouncementsAnswer> => {
    this.asked += 1;
    if (this.failing) {
      throw new Error('the session server did not answer');
    }
    return { announcements: this.current };
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

describe('AnnouncementPoller', () => {
  let server: FakeServer;
  let storage: MemoryStorage;
  let shown: Announcement[];
  const poller = (user = 'alice', onError?: (e: unknown) => void) =>
    new AnnouncementPoller(server.fetch, storedShownIds(storage, user), a => shown.push(a), onError);

  beforeEach(() => {
    server = new FakeServer();
    storage = new MemoryStorage();
    shown = [];
  });

  afterEach(() => jest.useRealTimers());

  it('shows each current announcement once, in the order the service gives (warnings first)', async () => {
    server.current = [announcement(9, 'warning'), announcement(4)];
    const alice = poller();
    expect(await alice.poll()).toBe(2);
    expect(shown.map(a => [a.id, a.level])).toEqual([[9, 'warning'], [4, 'info']]);
    expect(await alice.poll()).toBe(0);
    expect(shown).toHaveLength(2);
  });

  it('shows an older announcement that starts later, when it starts', async () => {
    server.current = [announcement(9)];
    const alice = poller();
    await alice.poll();
    server.current = [announcement(9), announcement(3)];  // posted before 9, scheduled to start after it
    expect(await alice.poll()).toBe(1);
    expect(shown.map(a => a.id)).toEqual([9, 3]);
  });

  it('remembers across reloads and tabs, per user', async () => {
    server.current = [announcement(5)];
    await poller().poll();
    expect(await poller().poll()).toBe(0);  // a reload: the same browser storage
    expect(await poller('bob').poll()).toBe(1);  // another user of the same browser
  });

  it('still shows each once when the browser refuses storage', async () => {
    const refusing: KeyValueStore = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      }
    };
    server.current = [announcement(1)];
    const alice = new AnnouncementPoller(server.fetch, storedShownIds(refusing, 'alice'), a => shown.push(a));
    expect(await alice.poll()).toBe(1);
    expect(await alice.poll()).toBe(0);
  });

  it('keeps only the newest remembered ids', () => {
    const ids = storedShownIds(storage, 'alice');
    for (let id = 1; id <= REMEMBERED + 10; id += 1) {
      ids.add(id);
    }
    const kept = JSON.parse(storage.getItem('factoryhub:announcements:shown:alice') ?? '[]');
    expect(kept).toHaveLength(REMEMBERED);
    expect(kept[0]).toBe(11);
    expect(storedShownIds(storage, 'alice').has(11)).toBe(true);
    expect(storedShownIds(storage, 'alice').has(10)).toBe(false);
  });

  it('reports a failed poll and tries again on the next tick', async () => {
    jest.useFakeTimers();
    const errors: unknown[] = [];
    server.failing = true;
    server.current = [announcement(2)];
    const alice = poller('alice', e => errors.push(e));
    alice.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(errors).toHaveLength(1);
    server.failing = false;
    await jest.advanceTimersByTimeAsync(ANNOUNCEMENTS_POLL_MS);
    expect(shown.map(a => a.id)).toEqual([2]);
    alice.stop();
    await jest.advanceTimersByTimeAsync(3 * ANNOUNCEMENTS_POLL_MS);
    expect(server.asked).toBe(2);
  });

  it('treats a site without the service as one with nothing to announce', async () => {
    const none = new AnnouncementPoller(async () => ({ announcements: [], available: false }),
      storedShownIds(storage, 'alice'), a => shown.push(a));
    expect(await none.poll()).toBe(0);
  });
});

describe('announcement text', () => {
  it('puts the title first and offers the whole text when it is long', () => {
    expect(announcementText(announcement(1, 'info', 'Back at 18:00.'))).toBe('Maintenance — Back at 18:00.');
    expect(isLong(announcement(1, 'info', 'short'))).toBe(false);
    expect(isLong(announcement(1, 'info', 'x'.repeat(200)))).toBe(true);
  });
});
