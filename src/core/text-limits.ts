/** Longest error message or stack kept, in characters, wherever an error is stored or sent. */
export const MAX_ERROR_TEXT = 8 * 1024;

/**
 * `text` cut to at most `max` characters, saying how much was cut; unchanged when it fits.
 * Error text of megabytes would otherwise be copied into the record, the stats, the events
 * and the dead-letter headers, and push a dead-letter copy over the broker's size limit.
 */
export function capText(text: string, max: number = MAX_ERROR_TEXT): string {
  if (text.length <= max) return text;
  const note = ` … [${text.length - max} more characters cut]`;
  return `${text.slice(0, Math.max(0, max - note.length))}${note}`;
}
