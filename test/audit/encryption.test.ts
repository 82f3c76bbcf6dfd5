import { App, Stack, Stage } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { collectEncryption } from '../../lib/audit/encryption';
import { TemplateIndex } from '../../lib/audit/template-index';
import { SparkApplication } from '../../lib/constructs/spark/spark-application';
import { SparkBatchJob } from '../../lib/constructs/spark/spark-job';

/** A stage with one Spark application and two batch jobs; `bypassKey` starts the second without the managed-logs key. */
function managedLogsEntry(bypassKey: boolean) {
  const stage = new Stage(new App(), 'T', { env: { account: '111111111111', region: 'eu-west-1' } });
  const stack = new Stack(stage, 'Processing');
  const logsKey = new kms.Key(stack, 'LogsKey', { enableKeyRotation: true });
  const spark = new SparkApplication(stack, 'Spark', {
    vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }),
    logsBucket: new s3.Bucket(stack, 'Logs'),
    logsKey,
    maximumCapacity: { cpuVcpu: 4, memoryGb: 16 },
  });
  const job = (id: string, application: ConstructorParameters<typeof SparkBatchJob>[2]['application']) =>
    new SparkBatchJob(stack, id, {
      application,
      executionRole: spark.addJobRole(`${id}Role`, id.toLowerCase()).role,
      jobName: id.toLowerCase(),
      entryPoint: 's3://code/job.py',
      logsKey,
    });
  job('First', spark);
  job('Second', bypassKey ? { applicationId: spark.applicationId, applicationArn: spark.applicationArn, jobRunsArn: spark.jobRunsArn } : spark);
  const entries = collectEncryption(new TemplateIndex(stage)).stores.filter((s) => s.store === 'EMR Serverless managed logs');
  expect(entries).toHaveLength(1);
  return entries[0]!;
}

describe('EMR Serverless managed logs in the encryption inventory', () => {
  test('count as customer-managed when every job run names the key, although the application names none', () => {
    expect(managedLogsEntry(false)).toMatchObject({
      keyType: 'customer-managed',
      key: 'Processing/Spark/ManagedLogsKey',
      note: 'named by every job run (StartJobRun), not the application: Processing/First/StateMachine, Processing/Second/StateMachine',
    });
  });

  test('stay AWS-owned, naming the submitter, when one job starts runs without the key', () => {
    expect(managedLogsEntry(true)).toMatchObject({
      keyType: 'aws-owned',
      note: 'runs started by Processing/Second/StateMachine name no key',
    });
  });
});
