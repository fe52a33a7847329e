/**
 * The cross-process half of the change feed: watch a log's directory and, when the log
 * changes, replay its tail (which publishes the new frames). Replays never overlap; a change
 * seen during one triggers one more.
 */
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { LOG_FILE } from './append-log.js';

export function watchLog(dir: string, refresh: () => Promise<void>): FSWatcher | undefined {
  let busy = false;
  let again = false;
  const catchUp = async (): Promise<void> => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        await refresh();
      } while (again);
    } catch {
      // Deleted or unreadable: whoever asks next is told so.
    } finally {
      busy = false;
    }
  };
  try {
    const w = fsWatch(dir, { persistent: false }, (_event, file) => {
      if (file === LOG_FILE || file === null) void catchUp();
    });
    w.on('error', () => w.close());
    return w;
  } catch {
    // Without a watch the feed still carries this handle's own changes.
    return undefined;
  }
}
