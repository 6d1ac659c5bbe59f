/** The SQLite store: in memory and in a file, restart survival, bounds, ids never reused, an unusable path. */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { parseQuery } from '../../src/activity/query.ts';
import { ActivityStore, ActivityStoreError } from '../../src/activity/store.ts';
import { row } from './rows.ts';

const all = parseQuery(new URLSearchParams('limit=999&order=asc'));

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelswap-activity-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('ActivityStore', () => {
  it('in memory: keeps the last maxRows rows, and reads back what was written', async () => {
    const s = await ActivityStore.open({ maxRows: 3, retentionMs: 0 });
    assert.equal(s.lastId(), 0);
    s.insert([row(1), row(2, { evicted: ['a', 'b'], causedSwap: true, loadMs: 1200, error: 'x', status: null, sessionId: 's' })]);
    s.insert([row(3), row(4), row(5)]);
    const { rows, total } = s.page(all);
    assert.equal(total, 3);
    assert.deepEqual(rows.map((r) => r.id), [3, 4, 5]);
    assert.deepEqual(rows[0], row(3));
    s.close();
    const t = await ActivityStore.open({ maxRows: 10, retentionMs: 0 });
    t.insert([row(2, { evicted: ['a', 'b'], causedSwap: true, loadMs: 1200, error: 'x', status: null, sessionId: 's', clientAborted: true })]);
    assert.deepEqual(t.page(all).rows[0], row(2, { evicted: ['a', 'b'], causedSwap: true, loadMs: 1200, error: 'x', status: null, sessionId: 's', clientAborted: true }));
    t.close();
  });

  it('in a file: survives close and reopen, and ids go on from the highest ever stored', async (t) => {
    const path = join(tempDir(t), 'activity.sqlite');
    const a = await ActivityStore.open({ path, maxRows: 2, retentionMs: 0 });
    a.insert([row(1), row(2), row(3)]);
    a.close();
    const b = await ActivityStore.open({ path, maxRows: 2, retentionMs: 0 });
    assert.equal(b.lastId(), 3, 'pruned rows keep their ids used');
    assert.deepEqual(b.page(all).rows.map((r) => r.id), [2, 3]);
    b.insert([row(4)]);
    b.close();
    const c = await ActivityStore.open({ path, maxRows: 0, retentionMs: 0 });
    assert.deepEqual(c.page(all).rows, [row(3), row(4)]);
    c.close();
  });

  it('retention deletes rows that arrived longer ago, at open and then at most once a minute', async (t) => {
    const path = join(tempDir(t), 'a.db');
    let now = 1_700_000_010_000; // row(n).ts = 1_700_000_000_000 + n s
    const s = await ActivityStore.open({ path, maxRows: 0, retentionMs: 5000, now: () => now });
    s.insert([row(4), row(5), row(6), row(7)]); // within a minute of the open: not pruned yet
    assert.equal(s.page(all).total, 4);
    now += 60_000;
    s.insert([row(8)]);
    assert.equal(s.page(all).total, 0, 'everything is older than 5 s by now');
    s.close();
    const r = await ActivityStore.open({ path, maxRows: 0, retentionMs: 0 });
    assert.equal(r.lastId(), 8);
    r.close();
  });

  it('filters, sorts and pages in SQL', async () => {
    const s = await ActivityStore.open({ maxRows: 100, retentionMs: 0 });
    s.insert([row(1, { model: 'a' }), row(2, { model: 'b' }), row(3, { model: 'a', durationMs: 1 }), row(4, { model: 'c' })]);
    const q = (text: string): number[] => s.page(parseQuery(new URLSearchParams(text))).rows.map((r) => r.id);
    assert.deepEqual(q(''), [4, 3, 2, 1], 'newest first by default');
    assert.deepEqual(q('model=a&model=c'), [4, 3, 1]);
    assert.deepEqual(q('sort=duration&order=asc'), [3, 1, 2, 4]);
    assert.deepEqual(q('sort=model&order=asc'), [1, 3, 2, 4], 'ties ordered by id the same way');
    assert.deepEqual(q('min_id=2&max_id=3'), [3, 2]);
    assert.deepEqual(q(`start=${new Date(row(2).ts).toISOString()}&end=${new Date(row(3).ts).toISOString()}`), [3, 2]);
    assert.deepEqual(q('limit=3&page=2'), [1]);
    assert.equal(s.page(parseQuery(new URLSearchParams('limit=3&page=5'))).total, 4, 'the total counts every match');
    assert.deepEqual([...s.rows({ models: ['a'] }, 'id', 'asc')].map((r) => r.id), [1, 3]);
    assert.deepEqual(s.totals('a'), { requests: 2, inputTokens: 6, outputTokens: 4, cacheTokens: 0 });
    assert.deepEqual(s.speeds('tokens_per_second', undefined).sort(), [21, 22, 23, 24]);
    s.close();
  });

  it('a path that cannot be written is a clear start-up error', async (t) => {
    const dir = tempDir(t);
    await assert.rejects(ActivityStore.open({ path: join(dir, 'missing', 'a.db'), maxRows: 0, retentionMs: 0 }), (err: Error) => {
      assert.ok(err instanceof ActivityStoreError);
      assert.match(err.message, /cannot use ".*missing\/a\.db" as the activity store \(store\.path\).*writable/);
      return true;
    });
    if (process.getuid?.() === 0) return t.diagnostic('running as root: file permissions do not apply');
    const ro = join(dir, 'ro.db');
    writeFileSync(ro, '');
    chmodSync(ro, 0o444);
    await assert.rejects(ActivityStore.open({ path: ro, maxRows: 0, retentionMs: 0 }), ActivityStoreError);
  });

  it('a file that is not SQLite is refused, not overwritten', async (t) => {
    const path = join(tempDir(t), 'notes.txt');
    writeFileSync(path, 'my notes, not a database\n'.repeat(100));
    await assert.rejects(ActivityStore.open({ path, maxRows: 0, retentionMs: 0 }), /activity store.*not a database/);
  });
});
