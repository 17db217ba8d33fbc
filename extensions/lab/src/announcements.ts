/**
 * The site's announcements (docs/announcements.md): polling for those meant for the user now and
 * remembering which were shown. Pure: the plugin (announcementNotices.ts) passes in the server, the
 * browser's storage and the notifications; tests pass in fakes.
 */
import { KeyValueStore, NOTIFICATION_LENGTH } from './messages';
import { Poller } from './poller';

/** One announcement as the announcements service answers it. */
export interface Announcement {
  id: number;
  level: 'info' | 'warning';
  title: string;
  text: string;
  starts_at: string;
  ends_at: string;
}

/** The session server's answer (`available: false`: the site runs no announcements service, or it is down). */
export interface AnnouncementsAnswer {
  announcements: Announcement[];
  available?: boolean;
}

/** How often JupyterLab asks (an announcement is about hours and days, not seconds). */
export const ANNOUNCEMENTS_POLL_MS = 60_000;

/** How many shown ids are remembered: far more than are ever current at once. */
export const REMEMBERED = 200;

/** The ids already shown to this user in this browser. */
export interface ShownIds {
  has(id: number): boolean;
  add(id: number): void;
}

/**
 * The shown ids, kept in `storage` under a key per user and read again at each question: a reload or
 * a second tab does not show an announcement twice. Ids, not the highest id: an announcement posted
 * earlier may start later. A browser that refuses storage still remembers for the life of the page.
 */
export function storedShownIds(storage: KeyValueStore | null, user: string): ShownIds {
  const key = `factoryhub:announcements:shown:${user}`;
  const inMemory = new Set<number>();
  const stored = (): number[] => {
    try {
      const parsed: unknown = JSON.parse(storage?.getItem(key) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((id): id is number => Number.isSafeInteger(id)) : [];
    } catch {
      return [];  // refused or unreadable: the page's own memory is all there is
    }
  };
  return {
    has: (id: number) => inMemory.has(id) || stored().includes(id),
    add: (id: number) => {
      inMemory.add(id);
      const kept = [...stored().filter(known => known !== id), id].slice(-REMEMBERED);
      try {
        storage?.setItem(key, JSON.stringify(kept));
      } catch {
        // as above
      }
    }
  };
}

/** The notification's text: the title, then the text. */
export function announcementText(announcement: Announcement): string {
  return `${announcement.title} — ${announcement.text}`;
}

/** Whether JupyterLab would cut the notification short (then the full text is offered behind an action). */
export function isLong(announcement: Announcement): boolean {
  return announcementText(announcement).length > NOTIFICATION_LENGTH;
}

/** Asks for the user's current announcements and shows each one not shown before, in the service's order
 * (warnings first; poller.ts). */
export class AnnouncementPoller extends Poller {
  constructor(
    private readonly fetchAnnouncements: () => Promise<AnnouncementsAnswer>,
    private readonly shown: ShownIds,
    private readonly show: (item: Announcement) => void,
    onError: (error: unknown) => void = () => undefined,
    intervalMs: number = ANNOUNCEMENTS_POLL_MS
  ) {
    super(onError, intervalMs);
  }

  protected async fetchAndShow(): Promise<number> {
    const answer = await this.fetchAnnouncements();
    let shown = 0;
    for (const announcement of answer.announcements ?? []) {
      if (!this.shown.has(announcement.id)) {  // read again: another tab may have shown it meanwhile
        this.shown.add(announcement.id);
        this.show(announcement);
        shown += 1;
      }
    }
    return shown;
  }
}
