import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { createApp } from '../../lib/app/build-app';
import { LakestreamStage } from '../../lib/app/lakestream-stage';
import { ConfigError, loadEnvironment, validateEnvironment } from '../../lib/config/load-config';
import { addressesNeeded, parseIpv4Cidr, scheduleExpressionProblems } from '../../lib/config/aws-rules';
import { createdSubnetGroups } from '../../lib/config/schema';
import { setPath, validDev } from '../helpers/config-fixtures';

function problemsOf(broken: Record<string, unknown>): string {
  try {
    validateEnvironment(broken, 'dev');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  return '';
}

const importedVpc = (overrides: Record<string, unknown> = {}) => ({
  mode: 'import',
  vpcId: 'vpc-0123456789abcdef0',
  vpcCidrBlock: '10.0.0.0/16',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  privateSubnetIds: ['subnet-0000000a', 'subnet-0000000b'],
  privateSubnetRouteTableIds: ['rtb-0000000a', 'rtb-0000000a'],
  createEndpoints: true,
  createFlowLogs: true,
  ...overrides,
});

/** Each rule: a value AWS refuses at deploy, and the message naming field, value and what is allowed. */
const refused: Array<[string, (c: Record<string, unknown>) => Record<string, unknown>, RegExp]> = [
  // Network addressing
  ['VPC CIDR with an octet above 255', (c) => setPath(c, 'network.cidr', '10.300.0.0/16'), /network.cidr = "10.300.0.0\/16": has an octet above 255/],
  [
    'VPC CIDR with host bits set',
    (c) => setPath(c, 'network.cidr', '10.40.1.0/16'),
    /network.cidr = "10.40.1.0\/16": has host bits set: the 16-bit network containing it is 10.40.0.0\/16/,
  ],
  ['VPC CIDR that is not a CIDR', (c) => setPath(c, 'network.cidr', '10.40.0.0'), /network.cidr = "10.40.0.0": must be an IPv4 CIDR block a.b.c.d\/n/],
  [
    'VPC CIDR in the link-local range',
    (c) => setPath(c, 'network.cidr', '169.254.0.0/16'),
    /network.cidr = "169.254.0.0\/16": overlaps the reserved range 169.254.0.0\/16/,
  ],
  [
    'VPC CIDR too small for its subnets',
    (c) => setPath(c, 'network.cidr', '10.40.0.0/19'),
    /network.cidr = "10.40.0.0\/19": holds 8192 addresses, but 2 zones of public \/24, compute \/20, data \/24 subnets need 12800 .*use a \/18 or larger/,
  ],
  [
    'three zones in a /18',
    (c) => setPath(setPath(c, 'network.cidr', '10.40.0.0/18'), 'network.azCount', 3),
    /network.cidr = "10.40.0.0\/18": .*3 zones .* need 17152 .*use a \/17 or larger/,
  ],
  [
    'imported VPC CIDR with host bits set',
    (c) => setPath(c, 'network', importedVpc({ vpcCidrBlock: '10.0.0.1/16' })),
    /network.vpcCidrBlock = "10.0.0.1\/16": has host bits set/,
  ],
  [
    'imported subnet listed twice',
    (c) => setPath(c, 'network', importedVpc({ privateSubnetIds: ['subnet-0000000a', 'subnet-0000000a'] })),
    /network.privateSubnetIds = .*lists subnet-0000000a more than once/,
  ],
  // Region and zones
  [
    'zone of another region',
    (c) => setPath(c, 'network', importedVpc({ availabilityZones: ['eu-west-1a', 'eu-central-1b'] })),
    /network.availabilityZones = .*eu-central-1b is not a zone of region eu-west-1/,
  ],
  [
    'zone listed twice',
    (c) => setPath(c, 'network', importedVpc({ availabilityZones: ['eu-west-1a', 'eu-west-1a'] })),
    /network.availabilityZones = .*lists eu-west-1a more than once/,
  ],
  [
    'explicit zones of another region for a created VPC',
    (c) => setPath(c, 'network.availabilityZones', ['us-east-1a', 'us-east-1b']),
    /network.availabilityZones = .*us-east-1a, us-east-1b are not a zone of region eu-west-1/,
  ],
  // Schedule expressions (EventBridge Scheduler)
  [
    'cron with five fields',
    (c) => setPath(c, 'emr.dailyReportSchedule', 'cron(0 3 * * ?)'),
    /emr.dailyReportSchedule = "cron\(0 3 \* \* \?\)": cron has 5 fields; EventBridge needs six/,
  ],
  ['cron hour 24', (c) => setPath(c, 'emr.dailyReportSchedule', 'cron(0 24 * * ? *)'), /hours '24' is not valid \(values 0-23/],
  [
    'cron with * in both day fields',
    (c) => setPath(c, 'emr.dailyReportSchedule', 'cron(0 3 * * * *)'),
    /exactly one of day-of-month \('\*'\) and day-of-week \('\*'\) must be '\?'/,
  ],
  ['cron with ? in both day fields', (c) => setPath(c, 'emr.dailyReportSchedule', 'cron(0 3 ? * ? *)'), /exactly one of day-of-month/],
  ['cron month 13', (c) => setPath(c, 'emr.dailyReportSchedule', 'cron(0 3 * 13 ? *)'), /month '13' is not valid \(values 1-12 or JAN-DEC/],
  [
    'cron day-of-week 0 (EventBridge counts 1-7)',
    (c) => setPath(c, 'emr.dailyReportSchedule', 'cron(0 3 ? * 0 *)'),
    /day-of-week '0' is not valid \(values 1-7 or SUN-SAT/,
  ],
  ['cron year before 1970', (c) => setPath(c, 'emr.dailyReportSchedule', 'cron(0 3 * * ? 1969)'), /year '1969' is not valid/],
  [
    'rate with a plural unit for 1',
    (c) => setPath(c, 'emr.dailyReportSchedule', 'rate(1 days)'),
    /rate\(1 days\): the unit must be one of minute, hour, day \(singular for 1/,
  ],
  [
    'rate with a singular unit for 2',
    (c) => setPath(c, 'emr.dailyReportSchedule', 'rate(2 day)'),
    /rate\(2 day\): the unit must be one of minutes, hours, days/,
  ],
  ['rate of zero', (c) => setPath(c, 'emr.dailyReportSchedule', 'rate(0 minutes)'), /rate value must be a positive whole number/],
  ['rate in weeks', (c) => setPath(c, 'emr.dailyReportSchedule', 'rate(1 week)'), /unit must be one of minute, hour, day/],
  // Tags
  ['tag key with the aws: prefix', (c) => setPath(c, 'tags', { 'AWS:team': 'data' }), /tags.AWS:team = "data": tag key 'AWS:team' uses the aws: prefix/],
  ['tag key over 128 characters', (c) => setPath(c, 'tags', { ['k'.repeat(129)]: 'v' }), /tag key 'k{129}' must be 1-128 characters/],
  [
    'tag key with a forbidden character',
    (c) => setPath(c, 'tags', { 'team#1': 'data' }),
    /tags.team#1 = "data": tag key 'team#1' may contain only letters, numbers, spaces and _ . : \/ = \+ - @/,
  ],
  ['tag value over 256 characters', (c) => setPath(c, 'tags', { team: 'v'.repeat(257) }), /tag value of 'team' is 257 characters; at most 256 are allowed/],
  [
    'tag value with a forbidden character',
    (c) => setPath(c, 'tags', { team: 'data&ml' }),
    /tags.team = "data&ml": tag value of 'team' \('data&ml'\) may contain only/,
  ],
  [
    'cost centre that is not a valid tag value',
    (c) => setPath(c, 'costCentre', 'cc#42'),
    /costCentre = "cc#42": tag value of 'cost-centre' \('cc#42'\) may contain only/,
  ],
  [
    'more tags than a resource takes',
    (c) => setPath(c, 'tags', Object.fromEntries(Array.from({ length: 43 }, (_, i) => [`t${i}`, 'x']))),
    /tags = .*adds up to 48 tags with the platform's own project, .*AWS allows 50 per resource and CDK adds up to 3, so at most 47/,
  ],
];

describe('values AWS refuses at deploy are refused at synth, naming field, value and what is allowed', () => {
  test.each(refused)('%s', (_title, breakIt, expected) => {
    const message = problemsOf(breakIt(validDev()));
    expect(message).toContain('Invalid configuration for environment "dev"');
    expect(message).toMatch(expected);
  });

  test.each<[string, (c: Record<string, unknown>) => Record<string, unknown>]>([
    ['the largest allowed tag set', (c) => setPath(c, 'tags', Object.fromEntries(Array.from({ length: 42 }, (_, i) => [`t${i}`, 'x'])))],
    ['tags in other scripts and with every allowed symbol', (c) => setPath(c, 'tags', { 'équipe données': 'ñandú 42', 'a_b.c:d/e=f+g-h@i': '' })],
    ['a user tag that replaces a platform tag', (c) => setPath(c, 'tags', { owner: 'data-team' })],
    ['the smallest VPC for two zones without NAT', (c) => setPath(setPath(c, 'network.natGateways', 0), 'network.cidr', '10.40.0.0/23')],
    ['the smallest VPC for two zones with NAT', (c) => setPath(c, 'network.cidr', '10.40.0.0/18')],
    ['an imported VPC sharing one route table', (c) => setPath(c, 'network', importedVpc())],
    ['cron with names, ranges, steps and lists', (c) => setPath(c, 'emr.dailyReportSchedule', 'cron(0/15 1-3,22 ? JAN-MAR,DEC MON-FRI 2026-2199)')],
    ['cron on the last weekday and the nth day', (c) => setPath(c, 'emr.dailyReportSchedule', 'cron(0 3 LW * ? *)')],
    ['cron on the second Tuesday', (c) => setPath(c, 'emr.dailyReportSchedule', 'cron(0 3 ? * 3#2 *)')],
    ['rate of one day', (c) => setPath(c, 'emr.dailyReportSchedule', 'rate(1 day)')],
    ['rate of twelve hours', (c) => setPath(c, 'emr.dailyReportSchedule', 'rate(12 hours)')],
  ])('accepts %s', (_title, change) => {
    expect(problemsOf(change(validDev()))).toBe('');
  });

  test('every schedule of the shipped profiles is valid', () => {
    expect(scheduleExpressionProblems((validDev().emr as { dailyReportSchedule: string }).dailyReportSchedule)).toEqual([]);
  });
});

describe('subnet space matches what CDK allocates', () => {
  it.each([
    ['10.0.0.0/16', 3, 1],
    ['10.0.0.0/18', 2, 1],
    ['10.0.0.0/18', 3, 1],
    ['10.0.0.0/19', 2, 1],
    ['10.0.0.0/23', 2, 0],
    ['10.0.0.0/24', 2, 0],
  ] as const)('%s over %i zones with %i NAT gateways', (cidr, zones, nat) => {
    const parsed = parseIpv4Cidr(cidr);
    if (typeof parsed === 'string') throw new Error(parsed);
    const fits = addressesNeeded(createdSubnetGroups(nat), zones) <= 2 ** (32 - parsed.prefix);
    const stack = new Stack(new App(), 'S');
    const build = () =>
      new ec2.Vpc(stack, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr(cidr),
        availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'].slice(0, zones),
        natGateways: nat,
        subnetConfiguration: createdSubnetGroups(nat).map((g) => ({
          name: g.name,
          cidrMask: g.cidrMask,
          subnetType: g.name === 'public' ? ec2.SubnetType.PUBLIC : g.name === 'compute' ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED,
        })),
      });
    if (fits) expect(build).not.toThrow();
    else expect(build).toThrow(/exceeds remaining space/);
  });
});

describe('the subnet groups the rule assumes are the ones the network construct creates', () => {
  it.each(['dev', 'prod'])('%s', (name) => {
    const app = createApp({ context: { 'aws:cdk:bundling-stacks': [] } });
    const config = loadEnvironment(name, { processEnv: {}, account: '111111111111' });
    const stage = new LakestreamStage(app, config.stageName, { config });
    const vpc = stage.network.network.vpc as ec2.Vpc;
    const network = config.network;
    if (network.mode !== 'create') throw new Error('expected a created VPC');
    const masks = [...vpc.publicSubnets, ...vpc.privateSubnets, ...vpc.isolatedSubnets].map((s) => Number(s.ipv4CidrBlock.split('/')[1]));
    const expected = createdSubnetGroups(network.natGateways).flatMap((g) => Array(network.azCount).fill(g.cidrMask));
    expect(masks).toEqual(expected);
  });
});
