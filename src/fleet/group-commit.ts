/**
 * Group commit: callers submit one item each; the items that arrive while a write is running are written
 * together by the next one. A lone item waits only for the end of the current turn of the event loop (no
 * timer); under load the batches grow by themselves, so N concurrent callers pay for far fewer than N commits.
 *
 * A batch whose write throws is written again one item at a time, so an item the database refuses fails
 * alone and the others are still stored. `write` must therefore be all-or-nothing for its batch.
 */
export class GroupCommit<Item, Result> {
  private queue: Array<{ item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }> = [];
  private writing = false;
  private scheduled = false;

  constructor(
    /** Writes the items atomically; answers one result per item, in order. */
    private readonly write: (items: Item[]) => Promise<Result[]>,
    private readonly maxBatch = 64,
    /** Called with each successful write's results (a retried item alone: one). */
    private readonly onWritten?: (results: readonly Result[]) => void,
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
  }

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.writing || this.scheduled) return;
      // Waits for the rest of this turn of the event loop: requests read from the network together are
      // written together even when the write itself never waits (SQLite runs synchronously).
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.drain();
      });
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const results = await this.writeChecked(batch.map((entry) => entry.item));
          this.onWritten?.(results);
          batch.forEach((entry, i) => entry.resolve(results[i]!));
        } catch (error) {
          if (batch.length === 1) {
            batch[0]!.reject(error);
            continue;
          }
          // One by one, concurrently: each caller gets its own item's outcome.
          await Promise.all(
            batch.map((entry) =>
              this.writeChecked([entry.item]).then(
                (results) => {
                  this.onWritten?.(results);
                  entry.resolve(results[0]!);
                },
                (itemError: unknown) => entry.reject(itemError),
              ),
            ),
          );
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async writeChecked(items: Item[]): Promise<Result[]> {
    const results = await this.write(items);
    if (results.length !== items.length) throw new Error(`group commit: ${results.length} results for ${items.length} items`);
    return results;
  }
}
