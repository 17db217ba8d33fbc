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
