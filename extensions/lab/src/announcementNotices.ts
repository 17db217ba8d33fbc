/**
 * The site's announcements as JupyterLab notifications: the poller (announcements.ts) asks the session's
 * server, which asks the announcements service; each announcement is shown once per user and browser,
 * a warning as a warning. They stay until dismissed: an admin's "maintenance on Friday" must not slip by.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';

import { Announcement, AnnouncementPoller, AnnouncementsAnswer, announcementText, isLong, storedShownIds } from './announcements';
import { requestAPI } from './api';

/** The browser's storage, or none where the browser refuses it. */
function browserStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** Show one announcement, with the whole text behind "Read" when the notification would cut it. */
function notify(announcement: Announcement): void {
  const readAll: Notification.IAction = {
    label: 'Read',
    caption: 'The whole announcement',
    callback: () =>
      void showDialog({
        title: announcement.title,
        body: announcement.text,
        buttons: [Dialog.okButton({ label: 'Close' })]
      })
  };
  const options = { autoClose: false as const, actions: isLong(announcement) ? [readAll] : [] };
  if (announcement.level === 'warning') {
    Notification.warning(announcementText(announcement), options);
  } else {
    Notification.info(announcementText(announcement), options);
  }
}

/** Start polling for the user's announcements (the user: JupyterHub's, or this server's base URL without a hub). */
export function startAnnouncements(): AnnouncementPoller {
  const user = PageConfig.getOption('hubUser') || PageConfig.getBaseUrl();
  let warned = false;
  const poller = new AnnouncementPoller(
    () => requestAPI<AnnouncementsAnswer>('announcements'),
    storedShownIds(browserStorage(), user),
    notify,
    error => {
      if (!warned) {  // once per page: a session without the server extension would repeat it every minute
        warned = true;
        console.warn('FactoryHub announcements unavailable:', error);
      }
    }
  );
  poller.start();
  return poller;
}
