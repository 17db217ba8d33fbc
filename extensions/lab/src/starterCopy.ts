/** The starter copy's answer and what the user is told about it (pure: tested without JupyterLab). */

export interface StarterAnswer {
  folder: string;
  copied: string[];
  kept: string[];
}

/** What the user is told after a copy. */
export function describeCopy(answer: StarterAnswer): string {
  const copied = answer.copied.length;
  const kept = answer.kept.length;
  if (!copied) {
    return `Your starter notebooks are in ${answer.folder}/ (nothing changed: your copies are kept).`;
  }
  const keptText = kept ? `; ${kept} file${kept === 1 ? '' : 's'} you already had kept as they are` : '';
  return `Starter notebooks copied to ${answer.folder}/ (${copied} file${copied === 1 ? '' : 's'}${keptText}).`;
}

/** The query parameter the hub's home page link adds: JupyterLab opens with the starter notebooks copied. */
export const STARTER_PARAMETER = 'factoryhub-starter';

/** Whether the page was opened to copy the starter notebooks (``?factoryhub-starter`` in its address). */
export function wantsStarter(search: string): boolean {
  return new URLSearchParams(search).has(STARTER_PARAMETER);
}

/** The address without the parameter, so that a reload does not copy again. */
export function withoutStarter(href: string): string {
  const url = new URL(href);
  url.searchParams.delete(STARTER_PARAMETER);
  return url.toString();
}
