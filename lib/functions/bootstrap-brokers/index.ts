import { GetBootstrapBrokersCommand, KafkaClient } from '@aws-sdk/client-kafka';
import { DeleteParameterCommand, GetParameterCommand, ParameterType, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { CustomResourceEvent, CustomResourceResult } from '../shared/custom-resource';
import { PermanentError } from '../shared/custom-resource';
import { createLogger } from '../shared/logger';
import {
  describeGetBootstrapBrokersError,
  describeSsmError,
  planEvent,
  requireIamBrokerString,
} from './plan';

/**
 * Custom resource: publishes an MSK cluster's IAM bootstrap broker string to SSM Parameter Store,
 * because CloudFormation does not return it. Lambdas, Flink and Spark read it from there.
 */

const kafka = new KafkaClient({});
const ssm = new SSMClient({});
const logger = createLogger('bootstrap-brokers');

export async function handler(event: CustomResourceEvent): Promise<CustomResourceResult> {
  const plan = planEvent(event);
  logger.info('Bootstrap brokers event', { requestType: event.RequestType, plan });

  switch (plan.action) {
    case 'none':
      logger.warn('Nothing to delete', { reason: plan.reason });
      return { PhysicalResourceId: plan.physicalResourceId };
    case 'delete':
      await deleteParameter(plan.parameterName);
      return { PhysicalResourceId: plan.parameterName };
    case 'publish': {
      const brokers = await readIamBrokerString(plan.clusterArn);
      await writeParameter(plan.parameterName, brokers, plan.overwrite);
      logger.info('Published bootstrap brokers', { parameterName: plan.parameterName, brokerCount: brokers.split(',').length });
      return { PhysicalResourceId: plan.parameterName, Data: { BootstrapBrokers: brokers, ParameterName: plan.parameterName } };
    }
  }
}

async function readIamBrokerString(clusterArn: string): Promise<string> {
  try {
    const out = await kafka.send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn }));
    return requireIamBrokerString(out.BootstrapBrokerStringSaslIam, clusterArn);
  } catch (error) {
    if (error instanceof PermanentError) throw error;
    throw describeGetBootstrapBrokersError(error, clusterArn);
  }
}

async function writeParameter(parameterName: string, value: string, overwrite: boolean): Promise<void> {
  try {
    await ssm.send(
      new PutParameterCommand({
        Name: parameterName,
        Value: value,
        Type: ParameterType.STRING,
        Overwrite: overwrite,
        Description: 'MSK bootstrap brokers (SASL/IAM, TLS port 9098), written by the Lakestream bootstrap-brokers custom resource',
      }),
    );
  } catch (error) {
    if (error instanceof Error && error.name === 'ParameterAlreadyExists') {
      await acceptOwnEarlierWrite(parameterName, value);
      return;
    }
    throw describeSsmError(error, 'PutParameter', parameterName);
  }
}

/**
 * A retried Create finds the parameter its first attempt already wrote: that is success. A
 * different value means the name belongs to something else, which must not be overwritten.
 */
async function acceptOwnEarlierWrite(parameterName: string, value: string): Promise<void> {
  let existing: string | undefined;
  try {
    existing = (await ssm.send(new GetParameterCommand({ Name: parameterName }))).Parameter?.Value;
  } catch (error) {
    throw describeSsmError(error, 'GetParameter', parameterName);
  }
  if (existing !== value) {
    throw new PermanentError(
      `SSM parameter ${parameterName} already exists with a different value, so another stack or a person owns it. ` +
        'Delete it or choose another parameter name; this resource does not overwrite parameters it did not create.',
    );
  }
  logger.info('Parameter already holds the broker string (retried request)', { parameterName });
}

async function deleteParameter(parameterName: string): Promise<void> {
  try {
    await ssm.send(new DeleteParameterCommand({ Name: parameterName }));
    logger.info('Deleted parameter', { parameterName });
  } catch (error) {
    if (error instanceof Error && error.name === 'ParameterNotFound') {
      logger.info('Parameter already gone', { parameterName });
      return;
    }
    throw describeSsmError(error, 'DeleteParameter', parameterName);
  }
}
