/**
 * FactoryHub inside JupyterLab: the project's allocations, the session's walltime, the
 * dataset catalogue, workshop messages and the site's announcements, from the site's services through the
 * session's own server.
 */
import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ILauncher } from '@jupyterlab/launcher';
import { IStatusBar } from '@jupyterlab/statusbar';
import { listIcon, tableRowsIcon } from '@jupyterlab/ui-components';

import { startAnnouncements } from './announcementNotices';
import { startBroadcasts } from './broadcasts';
import { CataloguePanel } from './catalogue';
import { QuotaPanel } from './quota';
import { STARTER_COMMAND, addStarterCommand } from './starter';
import { wantsStarter, withoutStarter } from './starterCopy';
import { WalltimeItem } from './walltimeItem';

const panels: JupyterFrontEndPlugin<void> = {
  id: '@factoryhub/lab:panels',
  description: 'Allocations and data catalogue side panels.',
  autoStart: true,
  requires: [ILabShell],
  activate: (app: JupyterFrontEnd, shell: ILabShell) => {
    const quota = new QuotaPanel();
    quota.title.icon = listIcon;
    shell.add(quota, 'left', { rank: 900 });
    const catalogue = new CataloguePanel(app);
    catalogue.title.icon = tableRowsIcon;
    shell.add(catalogue, 'left', { rank: 910 });
  }
};

const walltime: JupyterFrontEndPlugin<void> = {
  id: '@factoryhub/lab:walltime',
  description: 'Countdown of the session walltime in the status bar, with warnings before its end.',
  autoStart: true,
  requires: [IStatusBar],
  activate: (app: JupyterFrontEnd, statusBar: IStatusBar) => {
    const item = new WalltimeItem(app.commands);
    statusBar.registerStatusItem('@factoryhub/lab:walltime', { item, align: 'left', rank: 1000 });
    void item.start().catch(error => console.warn('FactoryHub walltime unavailable:', error));
  }
};

const starter: JupyterFrontEndPlugin<void> = {
  id: '@factoryhub/lab:starter',
  description: 'A launcher card that copies the starter notebooks into the home folder.',
  autoStart: true,
  optional: [ILauncher],
  activate: (app: JupyterFrontEnd, launcher: ILauncher | null) => {
    addStarterCommand(app);
    launcher?.add({ command: STARTER_COMMAND, category: 'FactoryHub', rank: 0 });
    if (wantsStarter(window.location.search)) {  // the hub home page's "Starter notebooks" link
      window.history.replaceState(null, '', withoutStarter(window.location.href));
      void app.restored.then(() => app.commands.execute(STARTER_COMMAND));
    }
  }
};

const broadcasts: JupyterFrontEndPlugin<void> = {
  id: '@factoryhub/lab:workshop-messages',
  description: "Trainers' workshop messages as notifications, each shown once.",
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    void app.restored.then(() => startBroadcasts());  // once the notification area is there
  }
};

const announcements: JupyterFrontEndPlugin<void> = {
  id: '@factoryhub/lab:announcements',
  description: "The site's announcements for the user as notifications, each shown once.",
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    void app.restored.then(() => startAnnouncements());  // once the notification area is there
  }
};

export default [panels, walltime, starter, broadcasts, announcements];
