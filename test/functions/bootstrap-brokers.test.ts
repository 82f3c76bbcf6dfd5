import {
  BadRequestException,
  ForbiddenException,
  GetBootstrapBrokersCommand,
  KafkaClient,
  ListNodesCommand,
  NotFoundException,
  TooManyRequestsException,
  UnauthorizedException,
} from '@aws-sdk/client-kafka';
import { DeleteParameterCommand, GetParameterCommand, ParameterAlreadyExists, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { CustomResourceEvent } from '../../lib/functions/shared/custom-resource';

process.env.LOG_LEVEL = 'SILENT';
// Loaded after LOG_LEVEL is set: the handler creates its logger at module scope.
const { handler } = require('../../lib/functions/bootstrap-brokers') as typeof import('../../lib/functions/bootstrap-brokers');

const kafka = mockClient(KafkaClient);
const ssm = mockClient(SSMClient);

const CLUSTER_ARN = 'arn:aws:kafka:eu-west-1:111111111111:cluster/lakestream-dev/6357e0b2-0e6a-4b86-a0b4-70df934c2e31-2';
const NEW_CLUSTER_ARN = 'arn:aws:kafka:eu-west-1:111111111111:cluster/lakestream-dev/0d3c2a51-9b1e-4c55-8f55-7a1d2b7c9e10-3';
const PARAMETER = '/lakestream/dev/msk/bootstrap-brokers-iam';
const BROKERS = 'b-1.lakestreamdev.abc123.c2.kafka.eu-west-1.amazonaws.com:9098,b-2.lakestreamdev.abc123.c2.kafka.eu-west-1.amazonaws.com:9098';
const NEW_BROKERS = 'b-1.lakestreamdev.def456.c3.kafka.eu-west-1.amazonaws.com:9098,b-2.lakestreamdev.def456.c3.kafka.eu-west-1.amazonaws.com:9098';
const metadata = { $metadata: {} };

const base = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider',
  ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x',
  StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/Data/1',
  RequestId: 'request-1',
  LogicalResourceId: 'BootstrapBrokers',
  ResourceType: 'Custom::MskBootstrapBrokers',
};

function createEvent(properties: Record<string, unknown> = { ClusterArn: CLUSTER_ARN, ParameterName: PARAMETER, BrokerCount: '2' }): CustomResourceEvent {
  return { ...base, RequestType: 'Create', ResourceProperties: { ServiceToken: base.ServiceToken, ...properties } } as CustomResourceEvent;
}

function updateEvent(properties: Record<string, unknown>, oldProperties: Record<string, unknown>, physicalId = PARAMETER): CustomResourceEvent {
  return {
    ...base,
    RequestType: 'Update',
    PhysicalResourceId: physicalId,
    ResourceProperties: { ServiceToken: base.ServiceToken, ...properties },
    OldResourceProperties: { ServiceToken: base.ServiceToken, ...oldProperties },
  } as CustomResourceEvent;
}

function deleteEvent(physicalId = PARAMETER): CustomResourceEvent {
  return {
    ...base,
    RequestType: 'Delete',
    PhysicalResourceId: physicalId,
    ResourceProperties: { ServiceToken: base.ServiceToken, ClusterArn: CLUSTER_ARN, ParameterName: PARAMETER },
  } as CustomResourceEvent;
}

beforeEach(() => {
  kafka.reset();
  ssm.reset();
});

describe('Create', () => {
  it('reads the IAM broker string and writes it to the parameter without overwriting', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: BROKERS, BootstrapBrokerStringTls: 'tls:9094' });
    ssm.on(PutParameterCommand).resolves({ Version: 1 });

    const result = await handler(createEvent());

    expect(kafka.commandCalls(GetBootstrapBrokersCommand).map((c) => c.args[0].input)).toEqual([{ ClusterArn: CLUSTER_ARN }]);
    expect(ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ Name: PARAMETER, Value: BROKERS, Type: 'String', Overwrite: false }),
    ]);
    expect(result).toEqual({ PhysicalResourceId: PARAMETER, Data: { BootstrapBrokers: BROKERS, ParameterName: PARAMETER } });
  });

  it('refuses to take over a parameter that already holds another value', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: BROKERS });
    ssm.on(PutParameterCommand).rejects(new ParameterAlreadyExists({ message: 'The parameter already exists.', ...metadata }));
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER, Value: 'someone-else:9092' } });

    await expect(handler(createEvent())).rejects.toThrow(
      `SSM parameter ${PARAMETER} already exists with a different value, so another stack or a person owns it.`,
    );
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(1);
  });
});

describe('Update', () => {
  it('overwrites the same parameter when the cluster ARN changed, keeping the physical ID', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: NEW_BROKERS });
    ssm.on(PutParameterCommand).resolves({ Version: 2 });

    const result = await handler(updateEvent({ ClusterArn: NEW_CLUSTER_ARN, ParameterName: PARAMETER }, { ClusterArn: CLUSTER_ARN, ParameterName: PARAMETER }));

    expect(kafka.commandCalls(GetBootstrapBrokersCommand)[0].args[0].input).toEqual({ ClusterArn: NEW_CLUSTER_ARN });
    expect(ssm.commandCalls(PutParameterCommand)[0].args[0].input).toEqual(expect.objectContaining({ Name: PARAMETER, Value: NEW_BROKERS, Overwrite: true }));
    expect(result.PhysicalResourceId).toBe(PARAMETER);
    expect(result.Data).toEqual({ BootstrapBrokers: NEW_BROKERS, ParameterName: PARAMETER });
  });

  it('writes a renamed parameter as new (no overwrite) and returns the new name, leaving the old one to the Delete CloudFormation sends', async () => {
    const renamed = '/lakestream/dev/msk/brokers';
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: BROKERS });
    ssm.on(PutParameterCommand).resolves({ Version: 1 });

    const result = await handler(updateEvent({ ClusterArn: CLUSTER_ARN, ParameterName: renamed }, { ClusterArn: CLUSTER_ARN, ParameterName: PARAMETER }));

    expect(ssm.commandCalls(PutParameterCommand)[0].args[0].input).toEqual(expect.objectContaining({ Name: renamed, Overwrite: false }));
    expect(ssm.commandCalls(DeleteParameterCommand)).toHaveLength(0);
    expect(result.PhysicalResourceId).toBe(renamed);
  });
});

describe('Delete', () => {
  it('deletes the parameter named by the physical ID without calling MSK', async () => {
    ssm.on(DeleteParameterCommand).resolves({});

    const result = await handler(deleteEvent());

    expect(ssm.commandCalls(DeleteParameterCommand).map((c) => c.args[0].input)).toEqual([{ Name: PARAMETER }]);
    expect(kafka.commandCalls(GetBootstrapBrokersCommand)).toHaveLength(0);
    expect(result).toEqual({ PhysicalResourceId: PARAMETER });
  });

  it('after a rename, deletes the old parameter named by the physical ID, not the one in the properties', async () => {
    const oldName = '/lakestream/dev/msk/old-brokers';
    ssm.on(DeleteParameterCommand).resolves({});

    await handler(deleteEvent(oldName));

    expect(ssm.commandCalls(DeleteParameterCommand).map((c) => c.args[0].input)).toEqual([{ Name: oldName }]);
  });

  it('succeeds when the parameter is already gone', async () => {
    ssm.on(DeleteParameterCommand).rejects(new ParameterNotFound({ message: 'not found', ...metadata }));

    await expect(handler(deleteEvent())).resolves.toEqual({ PhysicalResourceId: PARAMETER });
  });

  it('deletes nothing when the physical ID is not a parameter name this resource wrote', async () => {
    const result = await handler(deleteEvent('AWSCDK::CustomResourceProviderFramework::MISSING_PHYSICAL_ID'));

    expect(ssm.calls()).toHaveLength(0);
    expect(result.PhysicalResourceId).toBe('AWSCDK::CustomResourceProviderFramework::MISSING_PHYSICAL_ID');
  });

  it('does not need valid properties (a stack with a broken resource can still be deleted)', async () => {
    ssm.on(DeleteParameterCommand).resolves({});
    const event = { ...deleteEvent(), ResourceProperties: { ServiceToken: base.ServiceToken } } as CustomResourceEvent;

    await expect(handler(event)).resolves.toEqual({ PhysicalResourceId: PARAMETER });
  });

  it('fails with the action and parameter when access is denied', async () => {
    ssm.on(DeleteParameterCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));

    await expect(handler(deleteEvent())).rejects.toThrow(`Not allowed to call ssm:DeleteParameter on ${PARAMETER} (User is not authorized)`);
  });
});

describe('retry after a partial failure', () => {
  it('a Create that failed writing the parameter succeeds when retried', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: BROKERS });
    ssm
      .on(PutParameterCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ Version: 1 });

    await expect(handler(createEvent())).rejects.toThrow(`ssm:PutParameter failed for ${PARAMETER}: ThrottlingException: Rate exceeded`);
    await expect(handler(createEvent())).resolves.toEqual(expect.objectContaining({ PhysicalResourceId: PARAMETER }));
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(2);
  });

  it('a Create retried after its first attempt already wrote the parameter succeeds without overwriting', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: BROKERS });
    ssm.on(PutParameterCommand).rejects(new ParameterAlreadyExists({ message: 'The parameter already exists.', ...metadata }));
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER, Value: BROKERS } });

    const result = await handler(createEvent());

    expect(ssm.commandCalls(GetParameterCommand)[0].args[0].input).toEqual({ Name: PARAMETER });
    expect(ssm.commandCalls(PutParameterCommand).every((c) => c.args[0].input.Overwrite === false)).toBe(true);
    expect(result).toEqual({ PhysicalResourceId: PARAMETER, Data: { BootstrapBrokers: BROKERS, ParameterName: PARAMETER } });
  });

  it('a Delete retried after the first attempt removed the parameter succeeds', async () => {
    ssm
      .on(DeleteParameterCommand)
      .resolvesOnce({})
      .rejects(new ParameterNotFound({ message: 'not found', ...metadata }));

    await handler(deleteEvent());
    await expect(handler(deleteEvent())).resolves.toEqual({ PhysicalResourceId: PARAMETER });
  });
});

describe('error paths', () => {
  it('NotFoundException: names the cluster and what to check', async () => {
    kafka.on(GetBootstrapBrokersCommand).rejects(new NotFoundException({ message: 'The specified cluster was not found', ...metadata }));

    const error = await handler(createEvent()).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'PermanentError' });
    expect((error as Error).message).toBe(
      `MSK cluster ${CLUSTER_ARN} was not found (The specified cluster was not found). Check that ClusterArn names an existing cluster in this account and region.`,
    );
    expect(ssm.calls()).toHaveLength(0);
  });

  it('BadRequestException (cluster not ACTIVE): says the cluster must be ACTIVE with IAM auth', async () => {
    kafka.on(GetBootstrapBrokersCommand).rejects(new BadRequestException({ message: 'The cluster is in CREATING state', ...metadata }));

    await expect(handler(createEvent())).rejects.toThrow(
      `MSK refused GetBootstrapBrokers for ${CLUSTER_ARN} (The cluster is in CREATING state). The cluster must be ACTIVE and have IAM client authentication enabled`,
    );
    expect(ssm.calls()).toHaveLength(0);
  });

  it.each([
    ['UnauthorizedException', new UnauthorizedException({ message: 'not authorized', ...metadata })],
    ['ForbiddenException', new ForbiddenException({ message: 'forbidden', ...metadata })],
  ])('%s: names the missing permission', async (_name, exception) => {
    kafka.on(GetBootstrapBrokersCommand).rejects(exception);

    await expect(handler(createEvent())).rejects.toThrow(`Not allowed to call kafka:GetBootstrapBrokers on ${CLUSTER_ARN}`);
  });

  it('throttling or a service error keeps its name, marked as not permanent', async () => {
    kafka.on(GetBootstrapBrokersCommand).rejects(new TooManyRequestsException({ message: 'Too many requests', ...metadata }));

    const error = (await handler(createEvent()).catch((e: Error) => e)) as Error;
    expect(error.name).toBe('Error');
    expect(error.message).toBe(`GetBootstrapBrokers failed for ${CLUSTER_ARN}: TooManyRequestsException: Too many requests`);
  });

  it.each([
    ['no IAM string at all', { BootstrapBrokerStringTls: 'b-1:9094' }],
    ['an empty IAM string', { BootstrapBrokerStringSaslIam: '  ' }],
  ])('fails clearly when the cluster returns %s', async (_case, response) => {
    kafka.on(GetBootstrapBrokersCommand).resolves(response);

    await expect(handler(createEvent())).rejects.toThrow(
      `MSK cluster ${CLUSTER_ARN} returned no IAM bootstrap broker string (BootstrapBrokerStringSaslIam). Enable IAM client authentication`,
    );
    expect(ssm.calls()).toHaveLength(0);
  });

  it('PutParameter access denied: names the action and parameter', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: BROKERS });
    ssm.on(PutParameterCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));

    await expect(handler(createEvent())).rejects.toThrow(`Not allowed to call ssm:PutParameter on ${PARAMETER} (no)`);
  });

  it('GetParameter failing during the ownership check is reported as such', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: BROKERS });
    ssm.on(PutParameterCommand).rejects(new ParameterAlreadyExists({ message: 'exists', ...metadata }));
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

    await expect(handler(createEvent())).rejects.toThrow(`Not allowed to call ssm:GetParameter on ${PARAMETER} (denied)`);
  });

  it('ParameterLimitExceeded is permanent and named', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: BROKERS });
    ssm.on(PutParameterCommand).rejects(Object.assign(new Error('limit'), { name: 'ParameterLimitExceeded' }));

    await expect(handler(createEvent())).rejects.toThrow(`ssm:PutParameter refused ${PARAMETER}: ParameterLimitExceeded: limit`);
  });

  it.each([
    ['a missing ClusterArn', { ParameterName: PARAMETER }, /Invalid ResourceProperties: ClusterArn: must be an MSK cluster ARN .*\(missing\)/],
    [
      'a ClusterArn of another service',
      { ClusterArn: 'arn:aws:s3:::bucket', ParameterName: PARAMETER },
      /ClusterArn: must be an MSK cluster ARN .*\(got "arn:aws:s3:::bucket"\)/,
    ],
    [
      'a relative parameter name',
      { ClusterArn: CLUSTER_ARN, ParameterName: 'lakestream/brokers' },
      /ParameterName: must be a fully qualified SSM parameter name/,
    ],
    [
      'a non-numeric BrokerCount',
      { ClusterArn: CLUSTER_ARN, ParameterName: PARAMETER, BrokerCount: 'three' },
      'BrokerCount: must be a whole number (got "three")',
    ],
  ])('rejects %s before calling AWS', async (_case, properties, message) => {
    await expect(handler(createEvent(properties))).rejects.toThrow(message);
    expect(kafka.calls()).toHaveLength(0);
    expect(ssm.calls()).toHaveLength(0);
  });
});

describe('discovery (no ParameterName: a consumer stack)', () => {
  const DISCOVERY = { ClusterArn: CLUSTER_ARN, BrokerCount: '3' };
  const host = (n: number) => `b-${n}.lakestreamdev.abc123.c2.kafka.eu-west-1.amazonaws.com`;
  const broker = (n: number) => ({ NodeType: 'BROKER' as const, BrokerNodeInfo: { BrokerId: n, Endpoints: [host(n)] } });

  it('returns the broker string and one DNS name per broker, ordered by broker ID, across ListNodes pages, writing nothing', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: BROKERS });
    kafka
      .on(ListNodesCommand, { ClusterArn: CLUSTER_ARN, NextToken: undefined })
      .resolves({ NodeInfoList: [broker(3), broker(1)], NextToken: 'page-2' })
      .on(ListNodesCommand, { ClusterArn: CLUSTER_ARN, NextToken: 'page-2' })
      // KRaft controllers are listed too; open monitoring runs on brokers only.
      .resolves({ NodeInfoList: [broker(2), { NodeType: 'BROKER', ControllerNodeInfo: { Endpoints: ['c-1.x'] } } as never] });

    const result = await handler(createEvent(DISCOVERY));

    expect(result).toEqual({
      PhysicalResourceId: CLUSTER_ARN,
      Data: { BootstrapBrokers: BROKERS, BrokerHosts: [host(1), host(2), host(3)].join(','), BrokerCount: '3' },
    });
    expect(kafka.commandCalls(ListNodesCommand)).toHaveLength(2);
    expect(ssm.calls()).toHaveLength(0);
  });

  it('runs again on Update against a replaced cluster, with a new physical ID', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: NEW_BROKERS });
    kafka.on(ListNodesCommand).resolves({ NodeInfoList: [broker(1), broker(2), broker(3)] });

    const result = await handler(updateEvent({ ...DISCOVERY, ClusterArn: NEW_CLUSTER_ARN }, DISCOVERY, CLUSTER_ARN));

    expect(kafka.commandCalls(ListNodesCommand)[0].args[0].input).toEqual({ ClusterArn: NEW_CLUSTER_ARN, NextToken: undefined });
    expect(result.PhysicalResourceId).toBe(NEW_CLUSTER_ARN);
    expect(result.Data?.BootstrapBrokers).toBe(NEW_BROKERS);
  });

  it('deletes nothing: its Delete (physical ID = cluster ARN) calls no service', async () => {
    const result = await handler(deleteEvent(CLUSTER_ARN));
    expect(result).toEqual({ PhysicalResourceId: CLUSTER_ARN });
    expect(kafka.calls()).toHaveLength(0);
    expect(ssm.calls()).toHaveLength(0);
  });

  it('fails with a clear reason when MSK lists another number of brokers than declared', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: BROKERS });
    kafka.on(ListNodesCommand).resolves({ NodeInfoList: [broker(1), broker(2)] });
    await expect(handler(createEvent(DISCOVERY))).rejects.toThrow(
      `ListNodes returned 2 brokers for ${CLUSTER_ARN} (${host(1)}, ${host(2)}) but the cluster is declared with 3.`,
    );
  });

  it('fails when a broker has no endpoint, or when there are no brokers', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: BROKERS });
    kafka.on(ListNodesCommand).resolves({ NodeInfoList: [{ NodeType: 'BROKER', BrokerNodeInfo: { BrokerId: 1, Endpoints: [] } }] });
    await expect(handler(createEvent({ ClusterArn: CLUSTER_ARN }))).rejects.toThrow(`MSK broker 1 of ${CLUSTER_ARN} has no endpoint in ListNodes`);
    kafka.on(ListNodesCommand).resolves({ NodeInfoList: [] });
    await expect(handler(createEvent({ ClusterArn: CLUSTER_ARN }))).rejects.toThrow(`ListNodes returned no brokers for ${CLUSTER_ARN}`);
  });

  it('names the missing permission when ListNodes is denied', async () => {
    kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: BROKERS });
    kafka.on(ListNodesCommand).rejects(new ForbiddenException({ message: 'denied', ...metadata }));
    await expect(handler(createEvent(DISCOVERY))).rejects.toThrow(`Not allowed to call kafka:ListNodes on ${CLUSTER_ARN} (denied).`);
  });

  it('rejects a malformed cluster ARN before calling MSK', async () => {
    await expect(handler(createEvent({ ClusterArn: 'not-an-arn' }))).rejects.toThrow(/^Invalid ResourceProperties: ClusterArn: must be an MSK cluster ARN/);
    expect(kafka.calls()).toHaveLength(0);
  });
});
