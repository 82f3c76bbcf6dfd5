import { Validations } from 'aws-cdk-lib';
import { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { renderStatements, stableJson } from './access';
import type { TemplateIndex } from './template-index';

export interface SecurityGroupEntry {
  readonly group: string;
  readonly description: string;
  /** `<protocol> <ports> from <peer>`. */
  readonly ingress: string[];
  /** `<protocol> <ports> to <peer>`. */
  readonly egress: string[];
  /** Rules open to 0.0.0.0/0 or ::/0. */
  readonly open: string[];
}

export interface EndpointEntry {
  readonly endpoint: string;
  readonly service: string;
  readonly type: string;
  /** Policy statements as text; `(none: full access)` when the endpoint has no policy. */
  readonly policy: string[];
}

export interface AcknowledgementEntry {
  readonly rule: string;
  readonly reason: string;
  /** Construct the acknowledgement is made on (it covers the resources below it). */
  readonly at: string;
  readonly resources: number;
}

export interface RetentionEntry {
  readonly store: string;
  readonly resource: string;
  readonly retention: string;
}

const OPEN = new Set(['0.0.0.0/0', '::/0']);

function ports(rule: Record<string, unknown>): string {
  const protocol = String(rule.IpProtocol);
  if (protocol === '-1') return 'all traffic';
  const from = rule.FromPort;
  const to = rule.ToPort;
  return `${protocol} ${from === to ? String(from) : `${String(from)}-${String(to)}`}`;
}

/** Security groups with their rules (inline and separate rule resources), endpoints with policies, and public exposure. */
export function collectNetwork(index: TemplateIndex): { securityGroups: SecurityGroupEntry[]; endpoints: EndpointEntry[]; publicExposure: string[] } {
  const groups = new Map<string, { description: string; ingress: string[]; egress: string[]; open: string[] }>();
  for (const sg of index.ofType('AWS::EC2::SecurityGroup'))
    groups.set(sg.label, { description: String(sg.properties.GroupDescription ?? ''), ingress: [], egress: [], open: [] });
  const peer = (stack: string, rule: Record<string, unknown>): string =>
    rule.CidrIp !== undefined
      ? index.render(stack, rule.CidrIp)
      : rule.CidrIpv6 !== undefined
        ? index.render(stack, rule.CidrIpv6)
        : rule.DestinationPrefixListId !== undefined
          ? `prefix list ${index.render(stack, rule.DestinationPrefixListId)}`
          : rule.SourceSecurityGroupId !== undefined
            ? `security group ${index.render(stack, rule.SourceSecurityGroupId)}`
            : rule.DestinationSecurityGroupId !== undefined
              ? `security group ${index.render(stack, rule.DestinationSecurityGroupId)}`
              : 'unknown peer';
  const add = (group: string, direction: 'ingress' | 'egress', stack: string, rule: Record<string, unknown>) => {
    const entry = groups.get(group);
    if (!entry) return;
    const target = peer(stack, rule);
    // CDK's stand-in for "no egress": CloudFormation otherwise adds allow-all egress to a group without rules.
    if (target === '255.255.255.255/32' && rule.IpProtocol === 'icmp' && rule.FromPort === 252 && rule.ToPort === 86) return;
    const text = `${ports(rule)} ${direction === 'ingress' ? 'from' : 'to'} ${target}`;
    entry[direction].push(text);
    if (OPEN.has(target)) entry.open.push(`${direction} ${text}`);
  };
  for (const sg of index.ofType('AWS::EC2::SecurityGroup')) {
    for (const rule of (sg.properties.SecurityGroupIngress ?? []) as Array<Record<string, unknown>>) add(sg.label, 'ingress', sg.stack, rule);
    for (const rule of (sg.properties.SecurityGroupEgress ?? []) as Array<Record<string, unknown>>) add(sg.label, 'egress', sg.stack, rule);
  }
  for (const [type, direction] of [
    ['AWS::EC2::SecurityGroupIngress', 'ingress'],
    ['AWS::EC2::SecurityGroupEgress', 'egress'],
  ] as const) {
    for (const rule of index.ofType(type)) {
      const group = index.target(rule.stack, rule.properties.GroupId);
      if (group) add(group.label, direction, rule.stack, rule.properties);
    }
  }
  const securityGroups = [...groups.entries()]
    .map(([group, e]) => ({ group, description: e.description, ingress: e.ingress.sort(), egress: e.egress.sort(), open: e.open.sort() }))
    .sort((a, b) => a.group.localeCompare(b.group));

  const endpoints = index.ofType('AWS::EC2::VPCEndpoint').map((e) => ({
    endpoint: e.label,
    service: index
      .render(e.stack, e.properties.ServiceName)
      .replace(/^com\.amazonaws\.\$\{AWS::Region\}\./, '')
      .replace(/^com\.amazonaws\.[a-z0-9-]+\./, ''),
    type: String(e.properties.VpcEndpointType ?? 'Gateway'),
    policy: e.properties.PolicyDocument
      ? renderStatements(index, e.stack, e.properties.PolicyDocument).map(
          (s) =>
            `${s.Effect ?? 'Allow'} ${s.principals.join(' ')} ${s.actions.join(' ')} on ${s.resources.join(' ')}${s.conditions ? ` if ${s.conditions}` : ''}`,
        )
      : ['(none: the endpoint admits every request, to any account)'],
  }));

  const publicExposure: string[] = [];
  for (const r of index.resources) {
    const p = r.properties;
    if (r.type === 'AWS::EC2::Subnet' && p.MapPublicIpOnLaunch === true) publicExposure.push(`${r.label}: assigns public IPs on launch`);
    if (r.type === 'AWS::EC2::InternetGateway') publicExposure.push(`${r.label}: internet gateway (NAT egress of private subnets)`);
    if (r.type === 'AWS::EC2::NatGateway') publicExposure.push(`${r.label}: NAT gateway (outbound only)`);
    if (r.type === 'AWS::S3::Bucket') {
      const block = (p.PublicAccessBlockConfiguration ?? {}) as Record<string, unknown>;
      const all = ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets'].every((k) => block[k] === true);
      if (!all) publicExposure.push(`${r.label}: S3 Block Public Access not fully on`);
    }
    if (r.type === 'AWS::Lambda::Url') publicExposure.push(`${r.label}: Lambda function URL (${String(p.AuthType)})`);
    if (r.type === 'AWS::Grafana::Workspace') {
      const vpc = p.VpcConfiguration !== undefined;
      const nac = p.NetworkAccessControl !== undefined;
      publicExposure.push(
        `${r.label}: Grafana workspace URL reachable from ${nac ? 'the allowed prefix lists and VPC endpoints only' : 'the internet'} (sign-in ${String(p.AuthenticationProviders)}), data sources ${vpc ? 'through the VPC' : 'over public AWS endpoints'}`,
      );
    }
    if (r.type === 'AWS::MSK::Cluster') {
      const access = stableJson((p.BrokerNodeGroupInfo as Record<string, unknown> | undefined)?.ConnectivityInfo ?? {});
      if (access.includes('SERVICE_PROVIDED_EIPS')) publicExposure.push(`${r.label}: MSK public access on`);
    }
  }
  return { securityGroups, endpoints, publicExposure: publicExposure.sort() };
}

/** Every acknowledgement (cdk-nag and template validation) made in the stage, where it is made, with its reason. */
export function collectAcknowledgements(stage: IConstruct, index: TemplateIndex): AcknowledgementEntry[] {
  const stagePath = `${stage.node.path}/`;
  const entries: AcknowledgementEntry[] = [];
  for (const node of stage.node.findAll()) {
    const acks = node.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    if (acks.length === 0) continue;
    const resources = node.node.findAll().filter((n) => n instanceof CfnElement).length;
    const at = node.node.path.startsWith(stagePath) ? node.node.path.slice(stagePath.length) : node.node.path;
    for (const ack of acks) {
      for (const [rule, reason] of Object.entries(ack.data as Record<string, string>))
        entries.push({ rule, reason, at: at.replace(/\/(Resource|Default)$/, ''), resources });
    }
  }
  void index;
  const unique = new Map(entries.map((e) => [stableJson(e), e]));
  return [...unique.values()].sort((a, b) => a.at.localeCompare(b.at) || a.rule.localeCompare(b.rule));
}

/** How long every store keeps data. */
export function collectRetention(index: TemplateIndex): RetentionEntry[] {
  const entries: RetentionEntry[] = [];
  for (const r of index.resources) {
    const p = r.properties;
    if (r.type === 'AWS::Logs::LogGroup')
      entries.push({
        store: 'CloudWatch log group',
        resource: r.label,
        retention: p.RetentionInDays === undefined ? 'never expires' : `${String(p.RetentionInDays)} days`,
      });
    if (r.type === 'AWS::S3::Bucket') {
      const rules = (((p.LifecycleConfiguration as Record<string, unknown> | undefined)?.Rules ?? []) as Array<Record<string, unknown>>).filter(
        (rule) => rule.Status === 'Enabled',
      );
      const parts = rules.flatMap((rule) => {
        const scope = rule.Prefix ? ` under ${String(rule.Prefix)}` : '';
        const out: string[] = [];
        if (rule.ExpirationInDays !== undefined) out.push(`objects${scope} expire after ${String(rule.ExpirationInDays)} days`);
        const noncurrent = rule.NoncurrentVersionExpiration as Record<string, unknown> | undefined;
        if (noncurrent?.NoncurrentDays !== undefined) out.push(`noncurrent versions${scope} after ${String(noncurrent.NoncurrentDays)} days`);
        if (rule.AbortIncompleteMultipartUpload) out.push('incomplete uploads aborted');
        return out;
      });
      entries.push({ store: 'S3 bucket', resource: r.label, retention: parts.length > 0 ? parts.sort().join('; ') : 'kept until deleted' });
    }
    if (r.type === 'AWS::SQS::Queue')
      entries.push({ store: 'SQS queue', resource: r.label, retention: `${Number(p.MessageRetentionPeriod ?? 345600) / 86400} days` });
    if (r.type === 'Custom::KafkaTopics') {
      const topics =
        typeof p.Topics === 'string' ? (JSON.parse(p.Topics) as Array<Record<string, unknown>>) : ((p.Topics ?? []) as Array<Record<string, unknown>>);
      for (const topic of topics) {
        const ms = Number(topic.retentionMs);
        entries.push({
          store: 'Kafka topic',
          resource: `${r.label}/${String(topic.name)}`,
          retention: ms === -1 ? 'forever' : `${ms / 3_600_000} hours (${String(topic.cleanupPolicy ?? 'delete')})`,
        });
      }
    }
    if (r.type === 'AWS::APS::Workspace') entries.push({ store: 'Managed Prometheus workspace', resource: r.label, retention: 'service default (150 days)' });
  }
  return entries.sort((a, b) => a.resource.localeCompare(b.resource));
}
