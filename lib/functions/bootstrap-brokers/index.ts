import { GetBootstrapBrokersCommand, KafkaClient, ListNodesCommand, type NodeInfo } from '@aws-sdk/client-kafka';
import { DeleteParameterCommand, GetParameterCommand, ParameterType, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { CustomResourceEvent, CustomResourceResult } from '../shared/custom-resource';
import { PermanentError } from '../shared/custom-resource';
import { createLogger } from '../shared/logger';
import { brokerHostsFrom, describeKafkaError, describeSsmError, planEvent, requireIamBrokerString } from './plan';

/**
 * Custom resource, two modes, because CloudFormation does not return an MSK cluster's brokers:
 * - discovery (no ParameterName; one resource in each consumer stack): returns the IAM bootstrap
 *   broker string and one DNS name per broker as attributes, which the stack's topics, Lambdas,
 *   Flink, Spark and Prometheus scraper read with Fn::GetAtt. Re-run when ClusterArn or
 *   BrokerCount changes, so a replaced or resized cluster reaches every consumer.
 * - publish (ParameterName; data stack): also writes the broker string to SSM Parameter Store for
 *   operators and the CLI. No template reads that parameter.
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
    case 'discover': {
      const brokers = await readIamBrokerString(plan.clusterArn);
      const hosts = brokerHostsFrom(await listNodes(plan.clusterArn), plan.clusterArn, plan.expectedBrokerCount);
      logger.info('Discovered brokers', { clusterArn: plan.clusterArn, brokerHosts: hosts });
      // The cluster ARN as physical ID: a replaced cluster is a new resource, and the old one's Delete is a no-op.
      return {
        PhysicalResourceId: plan.clusterArn,
        Data: { BootstrapBrokers: brokers, BrokerHosts: hosts.join(','), BrokerCount: String(hosts.length) },
      };
    }
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
    throw describeKafkaError(error, clusterArn, 'GetBootstrapBrokers');
  }
}

async function listNodes(clusterArn: string): Promise<NodeInfo[]> {
  const nodes: NodeInfo[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await kafka.send(new ListNodesCommand({ ClusterArn: clusterArn, NextToken: nextToken }));
      nodes.push(...(page.NodeInfoList ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (error) {
    throw describeKafkaError(error, clusterArn, 'ListNodes');
  }
  return nodes;
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
