/**
 * Workshop broadcasts as JupyterLab notifications: the poller (messages.ts) asks the session's
 * server, which asks the workshops service; each message is shown once per user and browser.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';

import { requestAPI } from './api';
import { BroadcastMessage, MessagePoller, MessagesAnswer, isTruncated, notificationText, storedLastShown } from './messages';

/** The browser's storage, or none where the browser refuses it. */
function browserStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** Show one message: it stays until dismissed (a trainer's "we restart at 14:00" must not slip by). */
function notify(message: BroadcastMessage): void {
  const readAll: Notification.IAction = {
    label: 'Read',
    caption: 'The whole message',
    callback: () =>
      void showDialog({
        title: `${message.title} — ${message.sender}`,
        body: message.text,
        buttons: [Dialog.okButton({ label: 'Close' })]
      })
  };
  Notification.info(notificationText(message), { autoClose: false, actions: isTruncated(message) ? [readAll] : [] });
}

/** Start polling for the user's workshop messages (the user: JupyterHub's, or this server's base URL without a hub). */
export function startBroadcasts(): MessagePoller {
  const user = PageConfig.getOption('hubUser') || PageConfig.getBaseUrl();
  let warned = false;
  const poller = new MessagePoller(
    after => requestAPI<MessagesAnswer>(`messages?after=${after}`),
    storedLastShown(browserStorage(), user),
    notify,
    error => {
      if (!warned) {  // once per page: a session without the server extension would repeat it every 30 s
        warned = true;
        console.warn('FactoryHub workshop messages unavailable:', error);
      }
    }
  );
  poller.start();
  return poller;
}
