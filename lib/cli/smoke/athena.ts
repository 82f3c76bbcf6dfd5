import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import type { OpsContext } from '../ops/rows';

/** Runs one Athena query in the environment's workgroup and returns its rows (header row dropped) as strings. */
export async function athenaQuery(context: OpsContext, database: string, sql: string, pollMs = 2000): Promise<Array<Array<string | null>>> {
  const { athena } = context.clients;
  const { QueryExecutionId } = await athena.send(
    new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: context.map.athena.workgroup, QueryExecutionContext: { Database: database } }),
  );
  for (;;) {
    const status = (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId }))).QueryExecution?.Status;
    if (status?.State === 'SUCCEEDED') break;
    if (status?.State === 'FAILED' || status?.State === 'CANCELLED')
      throw new Error(`Athena query ${QueryExecutionId} ${status.State}: ${status.StateChangeReason ?? ''}`);
    await context.sleep(pollMs);
  }
  const rows = (await athena.send(new GetQueryResultsCommand({ QueryExecutionId }))).ResultSet?.Rows ?? [];
  return rows.slice(1).map((r) => (r.Data ?? []).map((d) => d.VarCharValue ?? null));
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
