import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { GroupCommit } from '../../src/fleet/group-commit.ts';

/** A write that records its batches and finishes when the test says so. */
function recordingWrite(fail: (item: number) => boolean = () => false) {
  const batches: number[][] = [];
  const pending: Array<() => void> = [];
  const write = (items: number[]): Promise<number[]> => {
    batches.push([...items]);
    return new Promise((resolve, reject) => {
      pending.push(() => (items.some(fail) ? reject(new Error(`refused ${items.filter(fail).join(',')}`)) : resolve(items.map((i) => i * 10))));
    });
  };
  const finishAll = async (): Promise<void> => {
    while (pending.length > 0) {
      for (const finish of pending.splice(0)) finish();
      await nextTurn();
    }
  };
  return { batches, write, finishAll };
}

describe('GroupCommit', () => {
  test('a lone item is written by itself, and answers its own result', async () => {
    const { batches, write, finishAll } = recordingWrite();
    const group = new GroupCommit(write);
    const answer = group.submit(7);
    await nextTurn();
    await finishAll();
    assert.equal(await answer, 70);
    assert.deepEqual(batches, [[7]]);
  });

  test('items submitted in one turn share one write; items arriving during a write share the next', async () => {
    const { batches, write, finishAll } = recordingWrite();
    const group = new GroupCommit(write);
    const first = [1, 2, 3].map((i) => group.submit(i));
    await nextTurn(); // the first batch is being written now
    const second = [4, 5, 6, 7].map((i) => group.submit(i));
    await nextTurn();
    assert.deepEqual(batches, [[1, 2, 3]], 'the second batch waits for the first write');
    await finishAll();
    assert.deepEqual(await Promise.all([...first, ...second]), [10, 20, 30, 40, 50, 60, 70]);
    assert.deepEqual(batches, [[1, 2, 3], [4, 5, 6, 7]]);
  });

  test('batches are at most maxBatch items, in submission order', async () => {
    const { batches, write, finishAll } = recordingWrite();
    const group = new GroupCommit(write, 4);
    const answers = Array.from({ length: 10 }, (_, i) => group.submit(i));
    await nextTurn();
    await finishAll();
    assert.deepEqual(await Promise.all(answers), Array.from({ length: 10 }, (_, i) => i * 10));
    assert.deepEqual(batches, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  test('a failed batch is written again item by item: only the refused item fails', async () => {
    const { batches, write, finishAll } = recordingWrite((i) => i === 2);
    const written: number[] = [];
    const group = new GroupCommit(write, 64, (results) => written.push(results.length));
    const answers = [1, 2, 3].map((i) => group.submit(i).then((r) => ({ ok: r }), (e: unknown) => ({ error: (e as Error).message })));
    await nextTurn();
    await finishAll();
    assert.deepEqual(await Promise.all(answers), [{ ok: 10 }, { error: 'refused 2' }, { ok: 30 }]);
    assert.deepEqual(batches, [[1, 2, 3], [1], [2], [3]]);
    assert.deepEqual(written, [1, 1], 'two commits of one item each');
    // And the group goes on writing afterwards.
    const later = group.submit(4);
    await nextTurn();
    await finishAll();
    assert.equal(await later, 40);
  });

  test('a write answering the wrong number of results fails its callers instead of answering wrongly', async () => {
    const group = new GroupCommit<number, number>((items) => Promise.resolve(items.slice(1)));
    await assert.rejects(group.submit(1), /0 results for 1 items/);
  });

  test('maxBatch must be a positive integer', () => {
    assert.throws(() => new GroupCommit((items: number[]) => Promise.resolve(items), 0), RangeError);
  });
});
