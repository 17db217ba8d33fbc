/** The catalogue browser: search with facets, entry details, paths, loader snippets, access requests. */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Clipboard, Notification } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { ApiError, requestAPI } from './api';
import { el } from './dom';
import { formatBytes } from './format';
import { Integrity, integrityBadge, verifiedNote } from './integrity';

const isNode = (node: HTMLElement | null): node is HTMLElement => node !== null;

export const CATALOGUE_PANEL_ID = 'factoryhub-catalogue-panel';
const FACET_LABELS: Record<string, string> = { kind: 'Kind', access: 'Access', theme: 'Theme', licence: 'Licence',
                                               format: 'Format' };

interface Summary { id: string; title: string; kind: string; access: string; licence: string; usable: boolean;
                    description: string; formats: string[]; personal_data: boolean;
                    integrity?: Integrity } // absent from services older than integrity checks
interface SearchAnswer { total: number; entries: Summary[]; facets: Record<string, Record<string, number>> }
interface Distribution { title: string; format: string; byte_size: number | null; location?: string;
                         integrity?: Integrity }
interface Snippets { distribution: string; format: string; snippets: Record<string, string> }
interface Entry extends Summary {
  usable: boolean; requestable: boolean; provenance: string; intended_use: string; limitations: string;
  lawful_basis: string | null; retention: string | null; terms?: string; terms_sha256?: string;
  distributions: Distribution[]; snippets?: Snippets[]; requests?: { id: number; state: string; decision_note: string }[];
  publisher: { name: string };
}

/** The part of a notebook panel this needs (the notebook package itself is the host's). */
interface NotebookLike { content?: { activeCell?: { model: { sharedModel: { setSource(s: string): void } } } | null } }

/**
 * Put code into a new cell below the active cell of the notebook in front, through the
 * notebook's own command (undoable like any insertion); false when no notebook is in front.
 */
export async function insertIntoNotebook(app: JupyterFrontEnd, code: string): Promise<boolean> {
  const front = app.shell.currentWidget as NotebookLike | null;
  if (!front?.content?.activeCell || !app.commands.hasCommand('notebook:insert-cell-below')) {
    return false;
  }
  await app.commands.execute('notebook:insert-cell-below');
  front.content.activeCell?.model.sharedModel.setSource(code.trimEnd());
  return true;
}

/** The warning badge for an integrity (see integrity.ts), or null when there is nothing to warn about. */
export function integrityBadgeElement(integrity: unknown): HTMLElement | null {
  const badge = integrityBadge(integrity);
  if (!badge) {
    return null;
  }
  return el('span', { class: `fh-integrity-badge fh-integrity-${badge.state}`, 'data-integrity': badge.state,
                      role: 'note', title: badge.title, 'aria-label': badge.label },
            el('span', { 'aria-hidden': 'true' }, '\u26a0 '), badge.text);
}

export class CataloguePanel extends Widget {
  private query = '';
  private filters = new Map<string, Set<string>>();
  private searchBox = el('input', { type: 'search', placeholder: 'Search data and models', maxlength: '500',
                                    'aria-label': 'Search the catalogue', class: 'fh-search' });
  private results = el('div', { class: 'fh-results', 'aria-live': 'polite' });
  private details = el('div', { class: 'fh-details' });
  private debounce = 0;
  private latest = 0; // answers to older searches are dropped: they may arrive after newer ones

  constructor(private app: JupyterFrontEnd) {
    super();
    this.id = CATALOGUE_PANEL_ID;
    this.addClass('fh-CataloguePanel');
    this.title.caption = 'Data catalogue';
    this.searchBox.addEventListener('input', () => {
      window.clearTimeout(this.debounce);
      this.debounce = window.setTimeout(() => { this.query = this.searchBox.value; void this.search(); }, 250);
    });
    this.node.append(el('h2', {}, 'Data catalogue'), this.searchBox, this.results, this.details);
  }

  protected onAfterAttach(): void {
    void this.search();
  }

  async search(): Promise<void> {
    const params = new URLSearchParams({ q: this.query, limit: '50' });
    for (const [facet, values] of this.filters) {
      values.forEach(v => params.append(facet, v));
    }
    const ticket = ++this.latest;
    try {
      const answer = await requestAPI<SearchAnswer>(`catalogue/entries?${params}`);
      if (ticket === this.latest) {
        this.showResults(answer);
      }
    } catch (error) {
      if (ticket === this.latest) {
        this.results.replaceChildren(el('p', { class: 'fh-unavailable', role: 'status' },
                                        error instanceof ApiError ? error.message : String(error)));
      }
    }
  }

  private showResults(answer: SearchAnswer): void {
    const facets = el('div', { class: 'fh-facets' });
    for (const [facet, counts] of Object.entries(answer.facets)) {
      const chosen = this.filters.get(facet) ?? new Set<string>();
      const group = el('fieldset', {}, el('legend', {}, FACET_LABELS[facet] ?? facet));
      for (const [value, count] of Object.entries(counts)) {
        const box = el('input', { type: 'checkbox', 'data-facet': facet, 'data-value': value });
        box.checked = chosen.has(value);
        box.addEventListener('change', () => {
          const set = this.filters.get(facet) ?? new Set<string>();
          if (box.checked) {
            set.add(value);
          } else {
            set.delete(value);
          }
          this.filters.set(facet, set);
          void this.search();
        });
        group.append(el('label', {}, box, ` ${value} (${count})`));
      }
      facets.append(group);
    }
    const list = el('ul', { class: 'fh-hits' });
    for (const hit of answer.entries) {
      const open = el('button', { class: 'fh-hit', 'data-entry': hit.id, type: 'button' }, hit.title);
      open.addEventListener('click', () => void this.open(hit.id));
      list.append(el('li', {}, open, el('span', { class: `fh-access fh-access-${hit.access}` },
                                         hit.usable ? hit.access : `${hit.access} · request access`),
                     integrityBadgeElement(hit.integrity)));
    }
    this.results.replaceChildren(el('p', { class: 'fh-total' }, `${answer.total} entries`), facets, list);
  }

  async open(id: string): Promise<void> {
    try {
      this.showEntry(await requestAPI<Entry>(`catalogue/entries/${encodeURIComponent(id)}`));
    } catch (error) {
      this.details.replaceChildren(el('p', { class: 'fh-unavailable' },
                                      error instanceof ApiError ? error.message : String(error)));
    }
  }

  private showEntry(entry: Entry): void {
    const facts = el('dl', { class: 'fh-facts' });
    const fact = (label: string, value: string | null | undefined) => {
      if (value) {
        facts.append(el('dt', {}, label), el('dd', {}, value));
      }
    };
    fact('Licence', entry.licence);
    fact('Access rights', entry.access);
    fact('Personal data', entry.personal_data ? `yes — ${entry.lawful_basis}, kept ${entry.retention}` : 'no');
    fact('Publisher', entry.publisher.name);
    fact('Provenance', entry.provenance);
    fact('Intended use', entry.intended_use);
    fact('Known limitations', entry.limitations);
    const dists = el('ul', { class: 'fh-distributions' });
    for (const dist of entry.distributions) {
      const item = el('li', {}, el('strong', {}, dist.title), ` ${dist.format} ${formatBytes(dist.byte_size)}`);
      item.append(...this.distributionIntegrity(dist.integrity));
      if (dist.location) {
        const location = dist.location;
        const copy = el('button', { type: 'button', class: 'fh-copy', 'data-location': location }, 'Copy path');
        copy.addEventListener('click', () => {
          Clipboard.copyToSystem(location);
          Notification.info(`Copied ${location}`, { autoClose: 2000 });
        });
        item.append(el('code', { class: 'fh-location' }, location), copy);
      }
      const snippets = entry.snippets?.find(s => s.distribution === dist.title);
      for (const [library, code] of Object.entries(snippets?.snippets ?? {})) {
        const insert = el('button', { type: 'button', class: 'fh-insert', 'data-library': library },
                          `Insert ${library} loader`);
        insert.addEventListener('click', async () => {
          if (!(await insertIntoNotebook(this.app, code))) {
            Notification.warning('Open a notebook first: the loader goes below its active cell.', { autoClose: 4000 });
          }
        });
        item.append(insert);
      }
      dists.append(item);
    }
    const parts: (HTMLElement | string)[] = [
      el('h3', { class: 'fh-entry-title' }, entry.title), ...[integrityBadgeElement(entry.integrity)].filter(isNode),
      el('p', { class: 'fh-description' }, entry.description),
      facts, el('h4', {}, 'Distributions'), dists];
    for (const request of entry.requests ?? []) {
      parts.push(el('p', { class: 'fh-request-state' }, `Your request #${request.id}: ${request.state}` +
                    (request.decision_note ? ` — ${request.decision_note}` : '')));
    }
    if (entry.requestable && !(entry.requests ?? []).some(r => r.state === 'pending')) {
      parts.push(this.requestForm(entry));
    }
    this.details.replaceChildren(...parts);
    this.details.scrollIntoView({ block: 'start' });
  }

  /** A distribution's badge with its message written out (a tooltip is no help on touch), or a quiet note. */
  private distributionIntegrity(integrity: unknown): HTMLElement[] {
    const badge = integrityBadgeElement(integrity);
    if (badge) {
      return [badge, el('span', { class: 'fh-integrity-message' }, badge.title)];
    }
    const note = verifiedNote(integrity);
    return note ? [el('span', { class: 'fh-integrity-verified' }, note)] : [];
  }

  private requestForm(entry: Entry): HTMLElement {
    const why = el('textarea', { rows: '4', maxlength: '4000', class: 'fh-justification',
                                 'aria-label': 'What will you use it for?' });
    const agree = el('input', { type: 'checkbox', class: 'fh-acknowledge' });
    const message = el('p', { class: 'fh-request-message', role: 'status' });
    const send = el('button', { type: 'submit', class: 'fh-request' }, 'Request access');
    const form = el('form', { class: 'fh-request-form' }, el('h4', {}, 'Request access'),
                    el('label', {}, 'What will you use it for?'), why,
                    el('pre', { class: 'fh-terms' }, entry.terms ?? ''),
                    el('label', {}, agree, ' I have read and accept these terms'), send, message);
    form.addEventListener('submit', async event => {
      event.preventDefault();
      if (!agree.checked) {
        message.textContent = 'Tick the box to acknowledge the terms.';
        return;
      }
      try {
        const made = await requestAPI<{ id: number }>(`catalogue/entries/${encodeURIComponent(entry.id)}/requests`, {
          method: 'POST', body: JSON.stringify({ justification: why.value, acknowledge_terms: entry.terms_sha256 })
        });
        message.textContent = `Request #${made.id} sent to the data stewards.`;
        await this.open(entry.id);
      } catch (error) {
        message.textContent = error instanceof ApiError ? error.message : String(error);
      }
    });
    return form;
  }
}
