/** The status-bar countdown of the session's Slurm walltime, with warnings before its end. */
import { Notification } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import { requestAPI, SessionInfo } from './api';
import { formatCountdown } from './format';
import { dueWarning, markGiven, warningText } from './walltime';

export class WalltimeItem extends Widget {
  private end: number | null = null;
  private offset = 0; // server clock minus browser clock, in seconds
  private given = new Set<number>();
  private timer = 0;

  constructor(private commands: CommandRegistry) {
    super();
    this.addClass('fh-walltime');
    this.node.setAttribute('title', 'Time left before the session reaches its walltime');
  }

  async start(): Promise<void> {
    const session = await requestAPI<SessionInfo>('session');
    if (session.walltime_end === null) {
      this.hide();
      return;
    }
    this.end = session.walltime_end;
    this.offset = session.now - Date.now() / 1000;
    this.tick();
    this.timer = window.setInterval(() => this.tick(), 1000);
  }

  dispose(): void {
    window.clearInterval(this.timer);
    super.dispose();
  }

  private tick(): void {
    if (this.end === null) {
      return;
    }
    const remaining = this.end - (Date.now() / 1000 + this.offset);
    this.node.textContent = `Walltime ${formatCountdown(remaining)}`;
    this.node.dataset.remaining = String(Math.max(0, Math.round(remaining)));
    const minutes = dueWarning(remaining, this.given);
    if (minutes !== null) {
      markGiven(minutes, this.given);
      Notification.warning(warningText(minutes), {
        autoClose: false,
        actions: [{ label: 'Save all', callback: () => void this.commands.execute('docmanager:save-all') }]
      });
    }
  }
}
