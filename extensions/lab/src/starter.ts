/**
 * "FactoryHub starter notebooks" in the launcher: copies the notebooks into ~/factoryhub-starter
 * (never over the user's edits: the server keeps existing files) and opens the folder.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';

import { requestAPI } from './api';
import { StarterAnswer, describeCopy } from './starterCopy';

export const STARTER_COMMAND = 'factoryhub:starter-notebooks';

/** Register the command the launcher card runs. */
export function addStarterCommand(app: JupyterFrontEnd): void {
  app.commands.addCommand(STARTER_COMMAND, {
    label: 'FactoryHub starter notebooks',
    caption: 'Copy the GPU starter notebooks (CuPy, RAPIDS, fine-tuning, Dask) into your home',
    execute: async () => {
      try {
        const answer = await requestAPI<StarterAnswer>('starter', { method: 'POST' });
        Notification.success(describeCopy(answer), { autoClose: 8000 });
        await app.commands.execute('filebrowser:go-to-path', { path: `/${answer.folder}/` });
      } catch (error) {
        Notification.error(`The starter notebooks could not be copied: ${String((error as Error).message)}`);
      }
    }
  });
}
