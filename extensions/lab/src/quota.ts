/** The allocations panel: each of the user's projects and this session's cost. */
import { Widget } from '@lumino/widgets';

import { ApiError, Project, QuotaAnswer, requestAPI } from './api';
import { bars } from './chart';
import { el } from './dom';
import { formatHours } from './format';

export const QUOTA_PANEL_ID = 'factoryhub-quota-panel';
const REFRESH_MS = 60_000;
const SVG = 'http://www.w3.org/2000/svg';

function chart(project: Project): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 140 40');
  svg.setAttribute('class', 'fh-chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `GPU-hours per day, last ${project.daily_usage.length} days`);
  for (const bar of bars(project.daily_usage, 140, 40)) {
    const rect = document.createElementNS(SVG, 'rect');
    for (const [name, value] of Object.entries({ x: bar.x, y: bar.y, width: bar.width, height: bar.height })) {
      rect.setAttribute(name, String(value));
    }
    const title = document.createElementNS(SVG, 'title');
    title.textContent = bar.label;
    rect.append(title);
    svg.append(rect);
  }
  return svg;
}

function figure(name: string, label: string, value: number): HTMLElement {
  return el('div', { class: 'fh-figure' }, el('dt', {}, label),
            el('dd', { 'data-figure': name }, formatHours(value)));
}

export class QuotaPanel extends Widget {
  private timer = 0;

  constructor() {
    super();
    this.id = QUOTA_PANEL_ID;
    this.addClass('fh-QuotaPanel');
    this.title.caption = 'Allocations';
  }

  protected onAfterAttach(): void {
    void this.refresh();
    this.timer = window.setInterval(() => void this.refresh(), REFRESH_MS);
  }

  protected onBeforeDetach(): void {
    window.clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    try {
      this.render(await requestAPI<QuotaAnswer>('quota'));
    } catch (error) {
      const message = error instanceof ApiError ? error.message : String(error);
      this.node.replaceChildren(el('h2', {}, 'Allocations'),
                                el('p', { class: 'fh-unavailable', role: 'status' }, message));
    }
  }

  private render(answer: QuotaAnswer): void {
    const session = answer.session;
    const items: HTMLElement[] = [el('h2', {}, 'Allocations')];
    if (session.cost_at_walltime_gpu_hours !== null) {
      items.push(el('section', { class: 'fh-session', 'aria-label': 'This session' },
        el('h3', {}, session.account ? `This session (${session.account})` : 'This session'),
        el('dl', {}, figure('session-so-far', 'Cost so far', session.cost_so_far_gpu_hours ?? 0),
           figure('session-at-walltime', 'At walltime', session.cost_at_walltime_gpu_hours))));
    }
    if (!answer.projects.length) {
      items.push(el('p', { class: 'fh-empty' }, 'You are a member of no project with a GPU allocation yet.'));
    }
    for (const p of answer.projects) {
      const used = p.allocated_gpu_hours > 0 ? (p.used_gpu_hours + p.held_gpu_hours) / p.allocated_gpu_hours : 0;
      const bar = el('div', { class: 'fh-bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100',
                               'aria-valuenow': String(Math.round(used * 100)) },
                     el('span', { class: used >= 1 ? 'fh-over' : used >= 0.8 ? 'fh-near' : 'fh-ok',
                                  style: `width: ${Math.min(100, used * 100).toFixed(1)}%` }));
      items.push(el('section', { class: 'fh-project', 'data-account': p.account },
        el('h3', {}, p.account, el('span', { class: 'fh-track' }, ` · ${p.track}`)),
        el('p', { class: 'fh-title' }, p.title), bar,
        el('dl', {}, figure('allocated', 'Allocation', p.allocated_gpu_hours), figure('used', 'Used', p.used_gpu_hours),
           figure('held', 'Held', p.held_gpu_hours), figure('remaining', 'Remaining', p.remaining_gpu_hours),
           figure('burn', 'Burn rate / day', p.burn_gpu_hours_per_day)),
        chart(p)));
    }
    this.node.replaceChildren(...items);
  }
}
