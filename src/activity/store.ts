/**
 * The activity table, in SQLite through `node:sqlite` (built into Node, no
 * native add-on): in memory (`:memory:`) when no `store.path` is set, capped
 * at `metricsMaxInMemory` rows; otherwise a file in WAL mode that survives
 * restarts, bounded by `store.maxRows` and `store.retention` (llama-swap's
 * file store is never pruned).
 *
 * Single writer: the recorder hands rows in batches (`insert`, one
 * transaction each) with ids it assigned itself from `lastId()`, so it knows
 * a row's id before the row is written. Ids are never reused
 * (AUTOINCREMENT keeps the highest id even after pruning).
 */
import { accessSync, constants } from 'node:fs';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { COLUMNS, fromColumns, toColumns, type ActivityRow } from './row.ts';
import { orderClause, whereClause, type ActivityFilter, type ActivityQuery, type SortKey } from './query.ts';

/** The table layout's version (PRAGMA user_version). */
const SCHEMA_VERSION = 1;
/** Retention is applied at most this often (and at open). */
const RETENTION_EVERY_MS = 60_000;
/**
 * An in-memory table of at most this many rows has no indexes: a query scans
 * it in a few ms, and each insert (on every request) skips two index updates,
 * about half of its cost.
 */
const UNINDEXED_MAX_ROWS = 10_000;

export interface StoreOptions {
  /** SQLite file; undefined keeps the table in memory. */
  readonly path?: string;
  /** Rows kept (the oldest go first); 0 = no cap. */
  readonly maxRows: number;
  /** Rows that arrived longer ago than this are deleted; 0 = kept. */
  readonly retentionMs: number;
  /** Clock, for tests (default Date.now). */
  readonly now?: () => number;
}

/** The store could not be opened or created: a start-up error. */
export class ActivityStoreError extends Error {
  override readonly name = 'ActivityStoreError';
}

export interface Totals {
  readonly requests: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheTokens: number;
}

export class ActivityStore {
  readonly #db: DatabaseSync;
  readonly #opts: StoreOptions;
  readonly #insert: StatementSync;
  #lastId: number;
  #retainedAt = 0;

  private constructor(db: DatabaseSync, opts: StoreOptions) {
    this.#db = db;
    this.#opts = opts;
    this.#insert = db.prepare(`INSERT INTO activity (${COLUMNS.map(([c]) => c).join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
    const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'activity'").get();
    this.#lastId = Number(seq?.['seq'] ?? 0);
    this.#retain();
  }

  /** Opens (creating if needed) the store; a file that cannot be written is an ActivityStoreError. */
  static async open(opts: StoreOptions): Promise<ActivityStore> {
    let sqlite: typeof import('node:sqlite');
    try {
      sqlite = await import('node:sqlite');
    } catch (err) {
      throw new ActivityStoreError(`the activity history needs node:sqlite (Node 22.13 or later): ${(err as Error).message}`, { cause: err });
    }
    const where = opts.path === undefined ? ':memory:' : opts.path;
    let db: DatabaseSync | undefined;
    try {
      db = new sqlite.DatabaseSync(where, { timeout: 5000 });
      if (opts.path !== undefined) {
        accessSync(opts.path, constants.W_OK); // a read-only file opens, and fails only at the first write
        db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
      }
      migrate(db, opts.path !== undefined || opts.maxRows === 0 || opts.maxRows > UNINDEXED_MAX_ROWS);
      return new ActivityStore(db, opts);
    } catch (err) {
      db?.close();
      if (err instanceof ActivityStoreError) throw err;
      throw new ActivityStoreError(
        `cannot use ${JSON.stringify(where)} as the activity store (store.path): ${(err as Error).message}; it must be a writable SQLite file, or a new file in a writable folder`,
        { cause: err },
      );
    }
  }

  /** The highest id ever stored (0 for a new store). */
  lastId(): number {
    return this.#lastId;
  }

  /** Writes `rows` (ids ascending, above lastId()) in one transaction, then applies the bounds. */
  insert(rows: readonly ActivityRow[]): void {
    if (rows.length === 0) return;
    this.#db.exec('BEGIN');
    try {
      for (const r of rows) this.#insert.run(...toColumns(r));
      this.#db.exec('COMMIT');
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
    this.#lastId = Math.max(this.#lastId, rows.at(-1)!.id);
    if (this.#opts.maxRows > 0) this.#db.prepare('DELETE FROM activity WHERE id <= ?').run(this.#lastId - this.#opts.maxRows);
    this.#retain();
  }

  /** One page of matching rows and how many match in all. */
  page(q: ActivityQuery): { readonly rows: ActivityRow[]; readonly total: number } {
    const where = whereClause(q);
    const total = Number(this.#db.prepare(`SELECT count(*) AS n FROM activity ${where.sql}`).get(...where.params)?.['n'] ?? 0);
    const rows = this.#db
      .prepare(`SELECT * FROM activity ${where.sql} ${orderClause(q.sort, q.order)} LIMIT ? OFFSET ?`)
      .all(...where.params, q.limit, (q.page - 1) * q.limit)
      .map((c) => fromColumns(c));
    return { rows, total };
  }

  /** Every matching row, read one at a time (for exports). */
  *rows(f: ActivityFilter, sort: SortKey, order: 'asc' | 'desc'): Generator<ActivityRow> {
    const where = whereClause(f);
    for (const c of this.#db.prepare(`SELECT * FROM activity ${where.sql} ${orderClause(sort, order)}`).iterate(...where.params)) {
      yield fromColumns(c);
    }
  }

  /** Totals over the rows of `model` (all when undefined). */
  totals(model: string | undefined): Totals {
    const where = whereClause({ models: model === undefined ? [] : [model] });
    const r = this.#db.prepare(
      `SELECT count(*) AS n, sum(max(coalesce(input_tokens, 0), 0)) AS i, sum(max(coalesce(output_tokens, 0), 0)) AS o, sum(max(coalesce(cache_tokens, 0), 0)) AS c FROM activity ${where.sql}`,
    ).get(...where.params);
    return { requests: Number(r?.['n'] ?? 0), inputTokens: Number(r?.['i'] ?? 0), outputTokens: Number(r?.['o'] ?? 0), cacheTokens: Number(r?.['c'] ?? 0) };
  }

  /** The reported speeds (> 0) of `column`, for `model` (all when undefined). */
  speeds(column: 'prompt_per_second' | 'tokens_per_second', model: string | undefined): number[] {
    const where = whereClause({ models: model === undefined ? [] : [model] });
    const sql = `SELECT ${column} AS v FROM activity ${where.sql === '' ? 'WHERE' : `${where.sql} AND`} ${column} > 0`;
    return this.#db.prepare(sql).all(...where.params).map((r) => Number(r['v']));
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  /** Deletes rows older than the retention, at most once a minute. */
  #retain(): void {
    const now = (this.#opts.now ?? Date.now)();
    if (this.#opts.retentionMs <= 0 || now - this.#retainedAt < RETENTION_EVERY_MS) return;
    this.#retainedAt = now;
    this.#db.prepare('DELETE FROM activity WHERE ts < ?').run(now - this.#opts.retentionMs);
  }
}

/** Creates the table (with its indexes if `indexed`) in a new store; refuses one written by a newer modelswap. */
function migrate(db: DatabaseSync, indexed: boolean): void {
  const version = Number(db.prepare('PRAGMA user_version').get()?.['user_version'] ?? 0);
  if (version > SCHEMA_VERSION) throw new ActivityStoreError(`the activity store was written by a newer modelswap (layout ${version}, this one knows ${SCHEMA_VERSION})`);
  if (version === SCHEMA_VERSION) return;
  db.exec(`
    BEGIN;
    CREATE TABLE activity (${COLUMNS.map(([c, type]) => `${c} ${type}`).join(', ')});
    ${indexed ? 'CREATE INDEX activity_ts ON activity (ts, id); CREATE INDEX activity_model_ts ON activity (model, ts, id);' : ''}
    PRAGMA user_version = ${SCHEMA_VERSION};
    COMMIT;
  `);
}
