/**
 * What the catalogue panel shows of a distribution's integrity (docs/catalogue.md, "Integrity"):
 * pure decisions, no DOM, so that they are tested without a browser.
 */

/** An entry's or a distribution's integrity as the catalogue service reports it. */
export interface Integrity {
  state: string; // verified | changed | missing | unreadable | unchecked | no-checksum
  checked_at: string | null; // ISO-8601
  message: string;
}

/** A warning badge: its visible text, its tooltip and its accessible name. */
export interface IntegrityBadge {
  state: string;
  text: string;
  title: string;
  label: string;
}

// The states that warn, with the words the catalogue's own pages use (templates/integrity_badge.html).
const WARNINGS: Record<string, string> = {
  changed: 'Changed since curation',
  missing: 'Missing',
  unreadable: 'Unreadable'
};

/** The integrity in an answer, or null where there is none (a service older than integrity) or it is malformed. */
export function integrityOf(value: unknown): Integrity | null {
  if (typeof value !== 'object' || value === null) {
    return null;
  }
  const { state, checked_at: checkedAt, message } = value as Record<string, unknown>;
  if (typeof state !== 'string') {
    return null;
  }
  return { state, checked_at: typeof checkedAt === 'string' ? checkedAt : null,
           message: typeof message === 'string' ? message : '' };
}

/**
 * The warning badge for an integrity, or null when there is nothing to warn about: only data
 * that changed since curation, went missing or could not be read warns; an absent integrity
 * (an older service), a verified one and one never checked show nothing.
 */
export function integrityBadge(value: unknown): IntegrityBadge | null {
  const integrity = integrityOf(value);
  const text = integrity && Object.prototype.hasOwnProperty.call(WARNINGS, integrity.state)
    ? WARNINGS[integrity.state] : null;
  if (!integrity || text === null) {
    return null;
  }
  const title = integrity.message || text;
  const named = title.toLowerCase().includes(text.toLowerCase()); // the service's messages name the state
  return { state: integrity.state, text, title, label: named ? title : `${text}: ${title}` };
}

/** The quiet note for verified data, "Verified 2026-12-04 18:30 UTC"; null for any other state or a bad date. */
export function verifiedNote(value: unknown): string | null {
  const integrity = integrityOf(value);
  if (integrity?.state !== 'verified' || integrity.checked_at === null) {
    return null;
  }
  const when = new Date(integrity.checked_at);
  if (Number.isNaN(when.getTime())) {
    return null;
  }
  // UTC and a fixed notation: the same for every user, and what the service's pages print.
  return `Verified ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
