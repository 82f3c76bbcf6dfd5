import { requestErasure } from '../erase/command';
import type { DeploymentMap } from '../common/deployment';
import { randomUUID } from 'node:crypto';
import { DescribeScraperCommand, DescribeWorkspaceCommand } from '@aws-sdk/client-amp';
import { ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { LOGIN_EVENT_SCHEMA_VERSION, loginEventSchema, type LoginEvent } from '../../contracts/login-event';
import { UsageError, type ExitCodeValue } from '../common/exit-codes';
import { prometheusGet } from '../common/prometheus-query';
import { idFromArn, StackResources } from '../common/stack-resources';
import type { CliDependencies } from '../dependencies';
import { followReplay } from '../replay/follow';
import { addEnvironmentOptions, formatAge, openContext, printRows, probe, row, STATUS_LABEL, type OpsContext, type OpsOptions, type Row } from '../ops/rows';
import { athenaQuery, sqlString } from './athena';

export interface SmokeOptions extends OpsOptions {
  /** Deadline for the whole pipeline, in minutes. */
  readonly timeoutMinutes?: string;
  /** Leave the landing object in place. */
  readonly keep?: boolean;
}

/** Flink's watermark lags the newest event by watermark.seconds (10 s by default, jobs/flink/login_counts/job_config.py). */
const WATERMARK_MARGIN_SECONDS = 20;
/** Flink rejects events further ahead of the broker clock than max.future.skew.seconds (300 s). */
const MAX_FUTURE_SKEW_SECONDS = 300;

/** The synthetic events: `logins` in the current window, and one later login that moves the watermark past its end. */
export function smokeEvents(userId: string, now: Date, windowMinutes: number): { events: LoginEvent[]; windowLogins: number; windowStart: string } {
  const windowMs = windowMinutes * 60_000;
  const windowStart = new Date(Math.floor(now.getTime() / windowMs) * windowMs);
  const closer = new Date(windowStart.getTime() + windowMs + WATERMARK_MARGIN_SECONDS * 1000);
  const login = (at: Date): LoginEvent =>
    loginEventSchema.parse({
      event_id: randomUUID(),
      user_id: userId,
      event_time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      source: 'test',
      schema_version: LOGIN_EVENT_SCHEMA_VERSION,
    });
  const events = [login(now), login(new Date(now.getTime() + 1000))];
  // The closing event may only be as far ahead as Flink accepts; otherwise the speed view step says so.
  if ((closer.getTime() - now.getTime()) / 1000 <= MAX_FUTURE_SKEW_SECONDS - 30) events.push(login(closer));
  return { events, windowLogins: 2, windowStart: windowStart.toISOString() };
}

/** Polls `check` until it returns a value or the deadline passes. */
async function waitFor<T>(context: OpsContext, deadline: number, pollMs: number, check: () => Promise<T | undefined>): Promise<T | undefined> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (context.now().getTime() >= deadline) return undefined;
    await context.sleep(pollMs);
  }
}

interface Step {
  readonly id: string;
  readonly title: string;
  readonly permissions: string;
  run(): Promise<Row>;
}

/** Runs `smoke`: synthetic logins through landing, replay, Kafka, Flink, the streaming job, bronze and the speed view. */
export async function runSmoke(options: SmokeOptions, deps: CliDependencies): Promise<ExitCodeValue> {
  const timeoutMinutes = Number(options.timeoutMinutes ?? '15');
  if (!Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0)
    throw new UsageError(`--timeout-minutes must be a positive number, not ${options.timeoutMinutes}`);
  const context = await openContext(options, deps);
  const { map, clients, config } = context;
  const quiet = Boolean(options.json) || deps.quiet === true;
  const started = context.now();
  const deadline = started.getTime() + timeoutMinutes * 60_000;
  const resources = await StackResources.load(clients.cloudFormation, map.stackNames);
  const runId = `${started
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}-${randomUUID().slice(0, 8)}`;
  const userId = `smoke-${runId}`;
  const key = `${map.landingPrefix}smoke/${runId}.jsonl`;
  const { events, windowLogins, windowStart } = smokeEvents(userId, started, map.windowMinutes);
  const day = started.toISOString().slice(0, 10);
  const nextDay = new Date(started.getTime() + 86_400_000).toISOString().slice(0, 10);
  const progress = (line: string) => {
    if (!quiet) deps.stderr.write(`[${formatAge(context.now().getTime() - started.getTime())}] ${line}\n`);
  };
  let bucket = '';
  let written = false;
  let pipelineOk = true;

  const timed = (id: string, title: string, permissions: string, body: () => Promise<Row>): Step => ({
    id,
    title,
    permissions,
    run: async () => {
      const t0 = context.now().getTime();
      progress(`${title}...`);
      const r = await probe(id, title, permissions, body);
      const withTime = { ...r, detail: `${r.detail} (${formatAge(context.now().getTime() - t0)})` };
      progress(`${title}: ${STATUS_LABEL[r.status]}`);
      if (r.status !== 'pass') pipelineOk = false;
      return withTime;
    },
  });

  const pipeline: Step[] = [
    timed('landing', 'Put synthetic logins into landing', 's3:PutObject on the landing bucket (and kms:GenerateDataKey on its key)', async () => {
      bucket = resources.get(map.landingBucket).physicalId;
      await clients.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${events.map((e) => JSON.stringify(e)).join('\n')}\n`, ContentType: 'application/x-ndjson' }),
      );
      written = true;
      return row('landing', 'Put synthetic logins into landing', 'pass', `s3://${bucket}/${key}: ${events.length} logins of ${userId}`);
    }),
    timed(
      'replay',
      'Replay into Kafka',
      'states:ListExecutions, DescribeExecution and GetExecutionHistory, and kms:Decrypt on the logs key (the state machines are encrypted with it)',
      async () => {
        const arn = resources.get(map.replayStateMachine).physicalId;
        // The landing bucket's EventBridge rule starts the execution; find it by its input.
        const executionArn = await waitFor(context, deadline, 5000, async () => {
          const list = (await clients.sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, maxResults: 25 }))).executions ?? [];
          for (const e of list.filter((x) => (x.startDate?.getTime() ?? 0) >= started.getTime() - 60_000)) {
            const input = (await clients.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }))).input ?? '{}';
            if ((JSON.parse(input) as { key?: string }).key === key) return e.executionArn;
          }
          return undefined;
        });
        if (!executionArn)
          return row(
            'replay',
            'Replay into Kafka',
            'fail',
            'no replay execution started for the object',
            'check the landing bucket EventBridge notifications and the file replay trigger rule',
          );
        const outcome = await followReplay(context, executionArn, { deadlineMs: deadline - context.now().getTime(), report: progress });
        const records = Number(outcome.summary?.records ?? 0);
        if (outcome.status !== 'SUCCEEDED' || records !== events.length) {
          return row(
            'replay',
            'Replay into Kafka',
            'fail',
            `${outcome.status}, ${records}/${events.length} records: ${outcome.error ?? ''}`,
            `read the execution ${executionArn}`,
          );
        }
        return row('replay', 'Replay into Kafka', 'pass', `${records} records to ${map.rawTopic}`);
      },
    ),
    timed(
      'bronze',
      'Raw logins in bronze (streaming job)',
      'athena:StartQueryExecution, GetQueryExecution, GetQueryResults, glue:Get*, s3 read on bronze and the results bucket',
      async () => {
        const sql = `SELECT count(*) FROM ${map.athena.rawTable} WHERE dt IN (${sqlString(day)}, ${sqlString(nextDay)}) AND user_id = ${sqlString(userId)}`;
        const found = await waitFor(context, deadline, 15_000, async () => {
          const n = Number((await athenaQuery(context, map.athena.bronzeDatabase, sql))[0]?.[0] ?? 0);
          return n >= events.length ? n : undefined;
        });
        return found
          ? row('bronze', 'Raw logins in bronze (streaming job)', 'pass', `${found} rows of ${userId} in ${map.athena.bronzeDatabase}.${map.athena.rawTable}`)
          : row(
              'bronze',
              'Raw logins in bronze (streaming job)',
              'fail',
              `fewer than ${events.length} rows of ${userId} before the deadline`,
              'run lakestream status: the streaming job must be RUNNING',
            );
      },
    ),
    timed('flink', `Flink's count on ${map.countsTopic}`, 'athena and glue read access as above', async () => {
      const sql =
        `SELECT max(CAST(json_extract_scalar(value, '$.login_count') AS bigint)) FROM ${map.athena.countsTable} ` +
        `WHERE dt IN (${sqlString(day)}, ${sqlString(nextDay)}) AND json_extract_scalar(value, '$.user_id') = ${sqlString(userId)} AND json_extract_scalar(value, '$.kind') = 'running'`;
      const count = await waitFor(context, deadline, 15_000, async () => {
        const n = Number((await athenaQuery(context, map.athena.silverDatabase, sql))[0]?.[0] ?? 0);
        return n >= events.length ? n : undefined;
      });
      return count
        ? row('flink', `Flink's count on ${map.countsTopic}`, 'pass', `running count ${count} for ${userId}, landed from ${map.countsTopic}`)
        : row(
            'flink',
            `Flink's count on ${map.countsTopic}`,
            'fail',
            `no running count of ${events.length} for ${userId} before the deadline`,
            'run lakestream status: Flink must be RUNNING',
          );
    }),
    timed('speed-view', 'Speed view', 'athena and glue read access on the gold views', async () => {
      if (events.length === windowLogins) {
        return row(
          'speed-view',
          'Speed view',
          'warn',
          `not checked: a ${map.windowMinutes}-minute window cannot be closed within Flink's ${MAX_FUTURE_SKEW_SECONDS} s future-event bound`,
        );
      }
      const sql = `SELECT sum(logins) FROM ${map.athena.speedView} WHERE ${speedViewUserFilter(map, userId, day, nextDay)} AND window_start = CAST(${sqlString(windowStart.replace('T', ' ').replace(/\.\d{3}Z$/, ''))} AS timestamp)`;
      const logins = await waitFor(context, deadline, 15_000, async () => {
        const n = Number((await athenaQuery(context, map.athena.goldDatabase, sql))[0]?.[0] ?? 0);
        return n >= windowLogins ? n : undefined;
      });
      return logins
        ? row(
            'speed-view',
            'Speed view',
            'pass',
            `${logins} logins of ${userId} in the window ${windowStart} of ${map.athena.goldDatabase}.${map.athena.speedView}`,
          )
        : row(
            'speed-view',
            'Speed view',
            'fail',
            `the window ${windowStart} of ${userId} did not appear before the deadline`,
            'the window closes when the watermark passes its end; a partition with older traffic holds it back',
          );
    }),
  ];

  const facts: Step[] = [
    timed('scraper-writes', 'Scraper writes to the CMK workspace', 'aps:DescribeScraper, aps:DescribeWorkspace and aps:QueryMetrics', async () => {
      const scraper = (await clients.amp.send(new DescribeScraperCommand({ scraperId: idFromArn(resources.get(map.scraper).physicalId) }))).scraper;
      const workspace = (await clients.amp.send(new DescribeWorkspaceCommand({ workspaceId: idFromArn(resources.get(map.prometheusWorkspace).physicalId) })))
        .workspace;
      const state = scraper?.status?.statusCode ?? 'UNKNOWN';
      if (state !== 'ACTIVE' || !workspace?.prometheusEndpoint)
        return row(
          'scraper-writes',
          'Scraper writes to the CMK workspace',
          'fail',
          `scraper ${state}${scraper?.statusReason ? `: ${scraper.statusReason}` : ''}`,
        );
      const answer = await prometheusGet({
        endpoint: workspace.prometheusEndpoint,
        path: 'api/v1/query',
        query: { query: `count(up{job="${map.jmxJob}"})` },
        region: clients.region,
        credentials: clients.credentials,
      });
      if (answer.status === 403) throw Object.assign(new Error('the workspace refused the query (HTTP 403)'), { name: 'AccessDeniedException' });
      const result = ((answer.body?.data as { result?: Array<{ value?: [number, string] }> })?.result ?? [])[0];
      const series = Number(result?.value?.[1] ?? 0);
      const encrypted = workspace.kmsKeyArn ? 'customer-managed key' : 'AWS-owned key';
      return series > 0
        ? row(
            'scraper-writes',
            'Scraper writes to the CMK workspace',
            'pass',
            `scraper ACTIVE, ${series} up{job="${map.jmxJob}"} series in the workspace (${encrypted})`,
          )
        : row(
            'scraper-writes',
            'Scraper writes to the CMK workspace',
            'fail',
            `scraper ACTIVE but no up{job="${map.jmxJob}"} series in the workspace (${encrypted})`,
            workspace.kmsKeyArn
              ? 'if the scraper cannot write to a workspace with a customer-managed key, drop kmsKeyArn from the workspace (replaces it): see README "Open fact"'
              : 'check the scraper log group and the broker security group',
          );
    }),
    timed('flink-lag-metric', 'Managed Flink publishes records_lag_max', 'cloudwatch:ListMetrics', async () => {
      if (!map.flinkApplication)
        return row('flink-lag-metric', 'Managed Flink publishes records_lag_max', 'pass', 'not deployed here (flink.enabled is false)');
      const app = resources.get(map.flinkApplication).physicalId;
      const metrics =
        (
          await clients.cloudWatch.send(
            new ListMetricsCommand({ Namespace: 'AWS/KinesisAnalytics', MetricName: 'records_lag_max', Dimensions: [{ Name: 'Application', Value: app }] }),
          )
        ).Metrics ?? [];
      return metrics.length
        ? row('flink-lag-metric', 'Managed Flink publishes records_lag_max', 'pass', `${metrics.length} series with Application=${app}`)
        : row(
            'flink-lag-metric',
            'Managed Flink publishes records_lag_max',
            'fail',
            `no AWS/KinesisAnalytics records_lag_max with Application=${app}`,
            'the consumer-lag alarm and panel read this metric: check the application metrics level, or rely on the broker-side lag from the JMX exporter',
          );
    }),
  ];

  const rows: Row[] = [];
  for (const step of pipeline) {
    // Each hop depends on the one before; after a failure the rest would only wait out the deadline.
    rows.push(pipelineOk ? await step.run() : row(step.id, step.title, 'fail', 'skipped: an earlier step failed'));
  }
  for (const step of facts) rows.push(await step.run());
  if (written && !options.keep) {
    rows.push(
      await probe(
        'cleanup',
        'Clean up',
        's3:DeleteObject on the landing bucket; ssm:GetParameter, s3:PutObject and states:StartExecution for the erasure workflow',
        async () => {
          await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
          // The synthetic user's events are in Kafka, bronze, silver and Flink: the GDPR workflow removes them like anyone's.
          const erasure = await requestErasure({ ssm: clients.ssm, s3: clients.s3, sfn: clients.sfn }, config, userId, [userId], context.now());
          return row(
            'cleanup',
            'Clean up',
            'pass',
            `deleted s3://${bucket}/${key}; erasure of ${userId} ${erasure.started ? 'started' : 'already running'} as request ${userId} (${erasure.executionArn}); follow it with lakestream erase --env ${config.name} --user-id ${userId} --request-id ${userId}`,
          );
        },
      ),
    );
  }
  const heading = `Smoke test of ${config.stageName} in account ${context.account}, region ${config.region}: user ${userId}, total ${formatAge(context.now().getTime() - started.getTime())}`;
  return printRows(deps, options, 'smoke', context, heading, rows, { runId, userId, object: `s3://${bucket}/${key}` });
}

/** Adds `smoke` to the program. */
export function registerSmoke(program: Command, deps: CliDependencies, setExitCode: (code: ExitCodeValue) => void): void {
  addEnvironmentOptions(
    program
      .command('smoke')
      .description(
        'End-to-end check: synthetic logins into landing, replay, Kafka, Flink, streaming job, bronze, speed view; plus the scraper and Flink lag metric facts',
      ),
  )
    .option('--timeout-minutes <minutes>', 'deadline for the whole pipeline', '15')
    .option('--keep', 'leave the synthetic landing object in place')
    .action(async (options: SmokeOptions) => {
      setExitCode(await runSmoke(options, deps));
    });
}

/**
 * The smoke user's rows of the speed view. Pseudonymous views carry only user_ref, which the CLI
 * cannot compute (the key is Spark's alone): it takes the reference the streaming job wrote next to
 * the user's own count records in silver, which the operator may read.
 */
export function speedViewUserFilter(map: Pick<DeploymentMap, 'athena'>, userId: string, day: string, nextDay: string): string {
  if (map.athena.userColumn === 'user_id') return `user_id = ${sqlString(userId)}`;
  return (
    `user_ref IN (SELECT user_ref FROM "${map.athena.silverDatabase}"."${map.athena.countsTable}" ` +
    `WHERE dt IN (${sqlString(day)}, ${sqlString(nextDay)}) AND json_extract_scalar(value, '$.user_id') = ${sqlString(userId)} AND user_ref IS NOT NULL)`
  );
}
