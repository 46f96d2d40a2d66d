// Statements per operation, from the database's own counters (SHOW GLOBAL STATUS), and the
// exact statements of one call from MariaDB's general log. The bench owns its embedded MariaDB,
// so it may read the global counters and turn the general log on for a moment.
import { setTimeout as sleep } from 'node:timers/promises';
import type mysql from 'mysql2/promise';
import { round } from './stats';

/**
 * The counters read. `Questions` is every statement a client sent (BEGIN and COMMIT
 * included); drizzle sends its statements as text (`query`, `Com_*`), `Com_stmt_execute`
 * would count prepared ones.
 */
const counterNames = [
  'Questions',
  'Com_select',
  'Com_insert',
  'Com_insert_select',
  'Com_update',
  'Com_delete',
  'Com_begin',
  'Com_commit',
  'Com_rollback',
  'Com_set_option',
  'Com_stmt_prepare',
  'Com_stmt_execute',
] as const;
type CounterName = (typeof counterNames)[number];
type Counters = Record<CounterName, number>;

/** What one kind of call costs the database, per call. */
export interface StatementCount {
  what: string;
  calls: number;
  /** Length of the measured window (the calls one after another, then a settle), and of the idle window subtracted. */
  windowSeconds: number;
  /** Statements of any kind per call (`Questions`): the database round trips, BEGIN and COMMIT included. */
  statements: number;
  /** Per call, by counter (lowercase, without `Com_`). */
  perCall: Record<string, number>;
  /** Statements per second the service sends when idle (its pollers), subtracted above. */
  backgroundPerSecond: number;
  goal: string | null;
  meetsGoal: boolean | null;
  /** The statements of one call, from the general log, literals elided. */
  sample?: string[];
}

async function readCounters(connection: mysql.Connection): Promise<Counters> {
  const [rows] = await connection.query<mysql.RowDataPacket[]>(
    `SHOW GLOBAL STATUS WHERE Variable_name IN (${counterNames.map((name) => `'${name}'`).join(', ')})`,
  );
  const values = Object.fromEntries(counterNames.map((name) => [name, 0])) as Counters;
  for (const row of rows) values[row.Variable_name as CounterName] = Number(row.Value);
  return values;
}

function minus(a: Counters, b: Counters): Counters {
  return Object.fromEntries(counterNames.map((name) => [name, a[name] - b[name]])) as Counters;
}

/** Counts the statements of `calls` sequential calls, against an idle window of the same length. */
export async function countStatements(
  admin: mysql.Connection,
  opts: { what: string; calls: number; goalMax?: number; settleMs?: number },
  call: (index: number) => Promise<unknown>,
): Promise<StatementCount> {
  // What reading the counters itself adds (SHOW GLOBAL STATUS counts as a question), the
  // smallest of a few back-to-back reads so a poll landing between two is not taken for it.
  const reads = [await readCounters(admin), await readCounters(admin), await readCounters(admin), await readCounters(admin)];
  const own = [
    minus(reads[1] as Counters, reads[0] as Counters),
    minus(reads[2] as Counters, reads[1] as Counters),
    minus(reads[3] as Counters, reads[2] as Counters),
  ].reduce((best, next) => (next.Questions < best.Questions ? next : best));

  const before = await readCounters(admin);
  const startedAt = performance.now();
  for (let i = 0; i < opts.calls; i++) await call(i);
  // Work a call leaves to the service's workers (mail delivery) belongs to the call.
  await sleep(opts.settleMs ?? 300);
  const windowMs = performance.now() - startedAt;
  const after = await readCounters(admin);

  const idleBefore = await readCounters(admin);
  const idleStartedAt = performance.now();
  await sleep(windowMs);
  const idleMs = performance.now() - idleStartedAt;
  const idleAfter = await readCounters(admin);

  const busy = minus(minus(after, before), own);
  const idle = minus(minus(idleAfter, idleBefore), own);
  const perCall = (name: CounterName) => (busy[name] - (idle[name] * windowMs) / idleMs) / opts.calls;
  const statements = round(Math.max(0, perCall('Questions')), 3);
  return {
    what: opts.what,
    calls: opts.calls,
    windowSeconds: round(windowMs / 1000),
    statements,
    perCall: Object.fromEntries(
      counterNames.filter((name) => name !== 'Questions').map((name) => [name.replace(/^Com_/, ''), round(Math.max(0, perCall(name)), 3)]),
    ),
    backgroundPerSecond: round(idle.Questions / (idleMs / 1000)),
    goal: opts.goalMax === undefined ? null : `<= ${opts.goalMax}`,
    meetsGoal: opts.goalMax === undefined ? null : statements <= opts.goalMax,
  };
}

/** A statement with its literals replaced by `?`, whitespace collapsed. */
export function elideLiterals(statement: string): string {
  return statement
    .replace(/'(?:[^'\\]|\\.|'')*'/g, '?')
    .replace(/\b0x[0-9a-f]+\b/gi, '?')
    .replace(/(?<![\w$`.])-?\d+(?:\.\d+)?(?![\w$`])/g, '?')
    .replace(/\(\s*\?(?:\s*,\s*\?)+\s*\)/g, '(?, …)')
    .replace(/\s+/g, ' ')
    .trim();
}

export interface LoggedStatement {
  thread: number;
  /** As the service sent it, literals and all (EXPLAIN needs them). */
  text: string;
}

/**
 * The statements of each operation, from the general log (to a table, for the moment of the
 * sample only): everything other connections sent between two markers this connection writes
 * to the log around the operation. Statements the service also sends when idle (its pollers,
 * learned from an idle window first) are left out; how many were is returned.
 */
export async function sampleStatements(
  admin: mysql.Connection,
  operations: Array<{ name: string; run(): Promise<unknown> }>,
  opts: { idleMs?: number } = {},
): Promise<Record<string, { statements: LoggedStatement[]; background: number }>> {
  const [[self]] = (await admin.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
  const [[previous]] = (await admin.query('SELECT @@GLOBAL.log_output AS output, @@GLOBAL.general_log AS enabled')) as unknown as [
    [{ output: string; enabled: number }],
  ];
  const marker = (label: string) => admin.query(`SELECT 'iam-bench-marker:${label}'`);
  await admin.query('SET GLOBAL general_log = 0');
  await admin.query('TRUNCATE TABLE mysql.general_log');
  await admin.query("SET GLOBAL log_output = 'TABLE'");
  await admin.query('SET GLOBAL general_log = 1');
  try {
    await marker('idle:start');
    await sleep(opts.idleMs ?? 2_500);
    await marker('idle:end');
    for (const operation of operations) {
      await marker(`${operation.name}:start`);
      await operation.run();
      await marker(`${operation.name}:end`);
    }
  } finally {
    await admin.query('SET GLOBAL general_log = 0');
  }
  // The CSV table reads back in the order the server logged (event_time is a statement's start, which ties).
  const [rows] = await admin.query<mysql.RowDataPacket[]>(
    "SELECT thread_id, command_type, CONVERT(argument USING utf8mb4) AS argument FROM mysql.general_log WHERE command_type IN ('Query', 'Execute')",
  );
  await admin.query('TRUNCATE TABLE mysql.general_log');
  await admin.query(`SET GLOBAL log_output = '${previous?.output === 'FILE' ? 'FILE' : previous?.output === 'NONE' ? 'NONE' : 'TABLE'}'`);
  if (previous?.enabled) await admin.query('SET GLOBAL general_log = 1');

  // Slices between this connection's markers.
  const slices = new Map<string, LoggedStatement[]>();
  let open: string | null = null;
  for (const row of rows) {
    const text = String(row.argument ?? '');
    if (Number(row.thread_id) === self.id) {
      const mark = /iam-bench-marker:(.+):(start|end)'/.exec(text);
      if (mark) open = mark[2] === 'start' ? (mark[1] ?? null) : null;
      if (mark?.[2] === 'start' && mark[1]) slices.set(mark[1], []);
      continue;
    }
    if (open) slices.get(open)?.push({ thread: Number(row.thread_id), text });
  }
  const background = new Set(
    (slices.get('idle') ?? []).map((statement) => elideLiterals(statement.text)).filter((text) => !isTransactionControl(text)),
  );
  const result: Record<string, { statements: LoggedStatement[]; background: number }> = {};
  for (const operation of operations) {
    const all = slices.get(operation.name) ?? [];
    const dropped = backgroundUnits(all, background);
    result[operation.name] = { statements: all.filter((_, i) => !dropped.has(i)), background: dropped.size };
  }
  return result;
}

const isTransactionControl = (statement: string) => /^(begin|start transaction|commit|rollback)\b/i.test(statement);

/**
 * The positions of the background's statements in a slice: a statement the idle window also
 * saw, or a whole transaction (BEGIN … COMMIT on one connection) of nothing else.
 */
function backgroundUnits(statements: readonly LoggedStatement[], background: ReadonlySet<string>): Set<number> {
  const dropped = new Set<number>();
  const open = new Map<number, number[]>();
  statements.forEach((statement, i) => {
    const text = elideLiterals(statement.text);
    const unit = open.get(statement.thread);
    if (/^(begin|start transaction)\b/i.test(text)) {
      open.set(statement.thread, [i]);
      return;
    }
    if (unit) {
      unit.push(i);
      if (/^(commit|rollback)\b/i.test(text)) {
        open.delete(statement.thread);
        const inner = unit.slice(1, -1);
        if (inner.length > 0 && inner.every((j) => background.has(elideLiterals(statements[j]?.text ?? ''))))
          for (const j of unit) dropped.add(j);
      }
      return;
    }
    if (background.has(text)) dropped.add(i);
  });
  return dropped;
}

/** How MariaDB runs one statement: per table, the access type and the index it uses. */
export interface QueryPlan {
  statement: string;
  tables: Array<{ table: string; type: string; key: string | null; rows: number | null; extra: string | null }>;
  /** A table read whole (`ALL`), or a whole index walked (`index`), on a table of more than a few rows. */
  fullScan: boolean;
}

/** EXPLAIN of each SELECT, UPDATE and DELETE (an INSERT of values has no plan to speak of); each statement once. */
export async function explainStatements(connection: mysql.Connection, statements: readonly LoggedStatement[]): Promise<QueryPlan[]> {
  const plans: QueryPlan[] = [];
  const seen = new Set<string>();
  for (const { text } of statements) {
    const statement = elideLiterals(text);
    if (!/^(select|update|delete)\b/i.test(statement) || seen.has(statement)) continue;
    seen.add(statement);
    const [rows] = await connection.query<mysql.RowDataPacket[]>(`EXPLAIN ${text}`);
    const tables = rows.map((row) => ({
      table: String(row.table ?? ''),
      type: String(row.type ?? ''),
      key: row.key === null || row.key === undefined ? null : String(row.key),
      rows: row.rows === null || row.rows === undefined ? null : Number(row.rows),
      extra: row.Extra ? String(row.Extra) : null,
    }));
    plans.push({
      statement,
      tables,
      fullScan: tables.some((table) => (table.type === 'ALL' || table.type === 'index') && (table.rows ?? 0) > 100),
    });
  }
  return plans;
}
